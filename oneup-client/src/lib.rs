//! Async client for the 1upHealth API (under construction).
