"""One module per actor. Each wraps pure logic and talks to its peers only by messages."""
