"""bench/gpu.py's FP32 peak, the yardstick of its efficiency figure, against NVIDIA's published peaks."""
import pytest

from bench.gpu import fp32_peak_tflops


@pytest.mark.parametrize('capability,sms,clock_mhz,published', [
    ((8, 0), 108, 1410, 19.5),   # A100 (SXM): 19.5 TFLOPS FP32
    ((9, 0), 132, 1980, 67.0),   # H100 SXM: 67 TFLOPS FP32
    ((8, 9), 128, 2520, 82.6),   # GeForce RTX 4090: 82.6 TFLOPS FP32
    ((7, 5), 40, 1590, 8.1),     # T4: 8.1 TFLOPS FP32
])
def test_fp32_peak_matches_the_published_figure(capability, sms, clock_mhz, published):
    assert fp32_peak_tflops(capability, sms, clock_mhz * 1000) == pytest.approx(published, rel=0.01)


def test_unknown_architecture_has_no_peak_rather_than_a_guess():
    assert fp32_peak_tflops((6, 1), 28, 1582000) is None
