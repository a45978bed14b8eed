add_library(Good::good INTERFACE IMPORTED)
set(Good_FOUND TRUE)
