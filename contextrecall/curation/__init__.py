"""What a user does to the memory itself: forget, pin, export and import it, and browse it."""
