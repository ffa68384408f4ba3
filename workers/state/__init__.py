"""State: admission of URLs, each URL's state and its batch's progress, the seen-set, retries, the sweeper and
queue depths."""
