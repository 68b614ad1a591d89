"""Operating Yishi: the warm-up before `make run` reports ready, the real servers for tests and
benchmarks (stack), and the held-out evaluation (`make eval`)."""
