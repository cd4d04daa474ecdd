"""How a requirement becomes a plan, a spec and a review: one provider per deployment."""
