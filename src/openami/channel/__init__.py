"""Power-line channel simulator: cables, two-ports, multipath, noise, impedance, link budget (numpy)."""
