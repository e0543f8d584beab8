"""put-migrate: rewrite Lightning ``self.log`` calls into torchmetrics aggregation plus ``self.put``."""

__version__ = "0.1.0"
