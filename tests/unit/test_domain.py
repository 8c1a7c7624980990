"""Domain rules: query syntax, time units, the error tree's messages."""

from __future__ import annotations

from datetime import UTC, datetime

from app.domain.errors import BackendError, BadResponse, ModeldeckError, Unreachable
from app.domain.models import (
    CatalogQuery,
    Credential,
    DeploymentStatus,
    ModelVersion,
    VersionStatus,
    ms_from_utc,
    utc_from_ms,
)


def test_query_parses_fields_and_free_text() -> None:
    q = CatalogQuery.parse(
        "fraud tag:team=nlp tag:pii alias:champion owner:ana flavor:sklearn "
        'deployed:yes "exact words" score'
    )
    assert q.text == 'fraud "exact words" score'
    assert q.tags == (("team", "nlp"), ("pii", None))
    assert q.aliases == ("champion",)
    assert (q.owner, q.flavor, q.deployed) == ("ana", "sklearn", True)


def test_unknown_field_is_free_text_and_empty_query_is_empty() -> None:
    assert CatalogQuery.parse("colour:red").text == "colour:red"
    assert CatalogQuery.parse("   ").is_empty
    assert CatalogQuery.parse("deployed:no").deployed is False


def test_quoted_field_values_keep_spaces() -> None:
    assert CatalogQuery.parse('owner:"Ana Silva"').owner == "Ana Silva"


def test_millisecond_round_trip_is_exact() -> None:
    when = datetime(2026, 11, 26, 12, 30, 15, 123000, tzinfo=UTC)
    assert utc_from_ms(ms_from_utc(when)) == when
    assert utc_from_ms(None) is None


def test_unknown_statuses_become_unknown_not_errors() -> None:
    assert VersionStatus.parse("SOMETHING_NEW") is VersionStatus.UNKNOWN
    assert DeploymentStatus.parse(None) is DeploymentStatus.UNKNOWN
    assert DeploymentStatus.parse("RUNNING") is DeploymentStatus.RUNNING


def test_version_number_orders_numerically() -> None:
    vs = [ModelVersion("s", "m", v) for v in ("9", "10", "2")]
    assert [v.version for v in sorted(vs, key=lambda v: v.number)] == ["2", "9", "10"]


def test_backend_errors_name_the_backend_and_field() -> None:
    err = BadResponse("mlflow-prod", "registered_models[3].name", "expected a string")
    assert isinstance(err, BackendError)
    assert isinstance(err, ModeldeckError)
    assert str(err).startswith("mlflow-prod: ")
    assert "registered_models[3].name" in str(err)
    assert str(Unreachable("ray", "connection refused")) == "ray: connection refused"


def test_credential_repr_hides_the_secret() -> None:
    cred = Credential(token="s3cr3t-token", username="u", password="hunter2")
    assert "s3cr3t-token" not in repr(cred)
    assert "hunter2" not in repr(cred)
