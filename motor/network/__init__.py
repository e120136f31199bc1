"""Motor's network layer: IOStream sockets and the pool that uses them.

- :mod:`motor.network.iostream_socket`: a socket façade over Tornado's IOStream.
- :mod:`motor.network.pool`: PyMongo's pool, with IOStreams and loop-side waits.
"""
