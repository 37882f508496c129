"""The maintenance page: what it says, how it is rendered, how it is published."""
