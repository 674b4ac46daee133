"""Enterprises: registration with the business licence, activation, holdings, their own signature."""
