"""Fetching: the safe fetcher, the address guard, robots.txt, and the per-host politeness the fleet shares."""
