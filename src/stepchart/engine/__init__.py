"""The dispatcher: payload -> Request -> rules -> lifecycle moves on compiled machines -> paths."""
