"""Programme synthesis."""
