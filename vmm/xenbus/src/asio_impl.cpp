// Boost.Asio compiled once, here (BOOST_ASIO_SEPARATE_COMPILATION), instead of in every file
// that uses it. GCC's -Wnull-dereference reports a false positive inside Asio's scheduler
// after inlining; it is silenced for this one translation unit only.
#pragma GCC diagnostic ignored "-Wnull-dereference"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wsign-conversion"
#include <boost/asio/impl/src.hpp>
