"""Notices and reminders (開催通知, reminders of deadlines): see issue 5."""
