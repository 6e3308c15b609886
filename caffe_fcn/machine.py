"""What the machine is, for the reports that print figures beside it (demo report, benchmarks)."""
import os


def cpu_model():
    """The CPU's model name from /proc/cpuinfo, or '' where it is not known."""
    if not os.path.isfile('/proc/cpuinfo'):
        return ''
    with open('/proc/cpuinfo') as f:
        return next((line.split(':', 1)[1].strip() for line in f if line.startswith('model name')), '')
