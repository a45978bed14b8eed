# Fails the way dnnl-config.cmake does on a machine without OpenCL headers.
find_package(SigmaNoSuchDependency REQUIRED)
add_library(Broken::broken INTERFACE IMPORTED)
