"""Static JSON schemas per Coupa resource; discovery adds what each instance has beyond them."""
