"""Domain: frozen dataclasses, enums, rules and the error tree. No I/O, no Qt."""
