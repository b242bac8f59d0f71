"""RabbitMQ: topology, the command consumer, and what the worker publishes."""
