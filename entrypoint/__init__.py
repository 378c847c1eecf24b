"""incident-io-alert-action: turn CI failures into incident.io alerts and resolve them when CI is green."""

__version__ = "1.0.0"
ACTION_NAME = "incident-io-alert-action"
