// Small ASCII text helpers shared by the parsers of dates, times and rules. Pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace sb {

// Reads the `n` decimal digits of `s` at `pos` into `*out`; false (and `*out` untouched) when
// they run past the end or one is not 0-9. For fixed-width fields (n <= 9).
bool ParseDigits(std::string_view s, size_t pos, size_t n, int* out);

// `s` with a-z turned into A-Z; every other byte unchanged.
std::string AsciiUpper(std::string_view s);

// The parts of `s` between the `sep` bytes, empty parts included ("a,,b" -> "a", "", "b";
// "" -> one empty part). The views point into `s`.
std::vector<std::string_view> Split(std::string_view s, char sep);

}  // namespace sb
