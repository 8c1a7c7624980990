"""The Health page: the fleet, worst first (``page``), and one deployment's charts
(``model_view``, which loads pyqtgraph on first use)."""
