"""Events to supervising departments (审管互动): subscriptions, the transactional outbox, delivery, feedback."""
