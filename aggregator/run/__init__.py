"""run: wiring and driving the stages. I/O: the clock, signals, locks, workers.

`pipeline.run_once` wires the stages and decides nothing; `poll.poll_source` is the one
way a source is polled, `decide.decide_update` the pure decision of what a poll comes to,
`scheduler` the pure "is it due, when next"; `service` (the long-running loop), `tasks`
(Celery workers), `lock` (one writer at a time) and `console` (logs, progress) drive it."""
