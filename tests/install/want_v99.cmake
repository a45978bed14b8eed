# Injected before the consumer's project(): asks for a version that does not exist.
find_package(sigma 99 CONFIG REQUIRED)
