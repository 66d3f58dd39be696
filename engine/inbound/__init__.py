"""What comes back in: provider status callbacks, SMS replies, keypad presses and links."""
