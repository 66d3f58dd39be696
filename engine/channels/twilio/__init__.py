"""Twilio: SMS and voice sending, the TwiML of calls and answers, its delivery statuses, and
its signed webhooks (status callbacks, inbound SMS, keypad presses)."""
