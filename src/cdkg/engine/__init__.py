"""Where queries run: engine processes that can be stopped, admission, the cache, evaluation."""
