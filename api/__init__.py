"""HTTP API and web pages: a thin shell over workflow/."""
