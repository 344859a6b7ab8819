// Windows <-> IANA time zone names, as Microsoft Graph accepts and emits them
// ("W. Europe Standard Time" vs "Europe/Berlin").
//
// The table is the "001" (golden zone) mapping of CLDR's windowsZones.xml for the zones
// calendar users commonly have, plus the other IANA zones CLDR maps to each of those Windows
// zones, so that IanaToWindows("Europe/Zurich") works. The IANA names are CLDR's, which keeps
// some pre-2000s spellings (Asia/Calcutta, Asia/Katmandu); their current spellings
// (Asia/Kolkata, Asia/Kathmandu) are accepted as input too.
//
// Thread safety: pure functions over a constant table; ResolveZone may consult libical
// through caltime.h and is thread-safe as well.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sb/base/status.h"

namespace sb::caltime {

// The golden IANA zone of a Windows zone name (matched case-insensitively), e.g.
// "Pacific Standard Time" -> "America/Los_Angeles"; nullopt when not in the table.
std::optional<std::string> WindowsToIana(std::string_view windows_name);

// The Windows zone of an IANA name (exact case), e.g. "Europe/Zurich" ->
// "W. Europe Standard Time"; nullopt when not in the table.
std::optional<std::string> IanaToWindows(std::string_view iana);

// Every Windows zone name in the table, in CLDR order (UTC offset ascending), e.g. for
// Graph's supportedTimeZones.
std::vector<std::string_view> WindowsZoneNames();

// Accepts an IANA name known to the zone database or a Windows name from the table and
// returns the IANA name (an IANA input is returned unchanged, so "UTC" stays "UTC").
// InvalidArgument for anything else.
sb::Result<std::string> ResolveZone(std::string_view name);

}  // namespace sb::caltime
