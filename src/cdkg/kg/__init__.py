"""The graph itself: files loaded and checked, the store, derived graphs, validation, publishing."""
