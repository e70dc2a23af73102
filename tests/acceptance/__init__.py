"""Acceptance tests: the seed councils replayed, `shingi serve` and `shingi worker` as real processes,
e-mail through a real SMTP server (aiosmtpd), and every reminder rule at its moment."""
