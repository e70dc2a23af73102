"""What goes out: reminders, notices by inbox and e-mail, generated documents and calendar feeds
(ARCHITECTURE.md)."""
