"""The Thirdway monitoring agent: enrols with a token, runs the checks the server hands it,
sends results in batches (buffered on disk while the server is unreachable) and inventory."""

__version__ = "0.1.0"
