"""Progress lines: done/total, rate and ETA, by a clock the test moves."""
from caffe_fcn.progress import Progress, clock_text


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_lines_every_period_with_rate_and_eta_counted_from_the_start_and_a_last_line_when_done():
    clock, lines = Clock(), []
    progress = Progress('iteration', 1000, lines.append, unit='iterations', start=400, every=60, clock=clock)
    clock.now += 30
    progress.update(430)
    assert lines == []  # before the first period
    clock.now += 90  # 120 s for 300 iterations since the resume at 400: 2.5/s, 300 left -> 120 s
    progress.update(700)
    assert lines == ['iteration 700/1000 iterations (70%), 2.5 iterations/s, ETA 0:02:00']
    clock.now += 1
    progress.update(1000)
    assert lines[-1] == 'iteration 1000/1000 iterations (100%), 4.96 iterations/s, ETA 0:00:00'  # 600 in 121 s


def test_short_work_prints_nothing_and_clock_text_counts_hours():
    clock, lines = Clock(), []
    progress = Progress('scored', 5, lines.append, clock=clock)
    for done in range(1, 6):
        clock.now += 1
        progress.update(done)
    assert lines == []
    assert clock_text(3 * 3600 + 2 * 60 + 9.6) == '3:02:10'
