"""Progress lines for long work: how far, how fast, and when it will be done.

    progress = Progress('scored', 736, say, unit='images')
    progress.update(done)    # prints 'scored 120/736 images (16%), 3.1 images/s, ETA 0:03:19' at most every `every` s

The rate counts only work done since the Progress was made (a resumed run does not count the
iterations before it). The first line comes after `every` seconds and the last when the work is done,
if a line came before it: work shorter than `every` prints nothing.
"""
import time


def clock_text(seconds):
    seconds = int(round(seconds))
    return '%d:%02d:%02d' % (seconds // 3600, seconds // 60 % 60, seconds % 60)


class Progress:
    def __init__(self, what, total, say, unit='', start=0, every=10.0, clock=time.monotonic):
        self.what, self.total, self.say, self.unit, self.every, self.clock = what, total, say, unit, every, clock
        self.start, self.started = start, clock()
        self.last, self.printed = self.started, False

    def line(self, done):
        """'<what> done/total unit (pct), rate unit/s, ETA h:mm:ss' (rate and ETA once there is a rate)."""
        unit = ' ' + self.unit if self.unit else ''
        text = '%s %d/%d%s (%d%%)' % (self.what, done, self.total, unit, 100 * done // max(self.total, 1))
        elapsed = self.clock() - self.started
        if done > self.start and elapsed > 0:
            rate = (done - self.start) / elapsed
            text += ', %.3g%s/s, ETA %s' % (rate, unit, clock_text((self.total - done) / rate))
        return text

    def update(self, done):
        """Print the line when `every` seconds passed since the last one, and when the work is done."""
        now = self.clock()
        if now - self.last >= self.every or (done >= self.total and self.printed):
            self.last, self.printed = now, True
            self.say(self.line(done))
