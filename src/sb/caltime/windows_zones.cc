#include "sb/caltime/windows_zones.h"

#include <algorithm>
#include <array>

#include "sb/caltime/caltime.h"

namespace sb::caltime {
namespace {

struct WindowsZone {
  std::string_view windows;
  // CLDR territory "001" zone: what WindowsToIana returns.
  std::string_view golden;
  // Space-separated further IANA zones that map to this Windows zone (other territories in
  // CLDR, plus current spellings of CLDR's legacy names).
  std::string_view others;
};

// From CLDR common/supplemental/windowsZones.xml, ordered by UTC offset as in the source.
constexpr std::array kWindowsZones = {
    WindowsZone{"Dateline Standard Time", "Etc/GMT+12", ""},
    WindowsZone{"UTC-11", "Etc/GMT+11", "Pacific/Pago_Pago Pacific/Niue Pacific/Midway"},
    WindowsZone{"Hawaiian Standard Time", "Pacific/Honolulu", "Pacific/Rarotonga Pacific/Tahiti"},
    WindowsZone{"Alaskan Standard Time", "America/Anchorage",
                "America/Juneau America/Metlakatla America/Nome America/Sitka America/Yakutat"},
    WindowsZone{"Pacific Standard Time (Mexico)", "America/Tijuana", "America/Santa_Isabel"},
    WindowsZone{"Pacific Standard Time", "America/Los_Angeles", "America/Vancouver PST8PDT"},
    WindowsZone{"US Mountain Standard Time", "America/Phoenix",
                "America/Creston America/Dawson_Creek America/Fort_Nelson America/Hermosillo"},
    WindowsZone{"Mountain Standard Time (Mexico)", "America/Mazatlan", ""},
    WindowsZone{"Mountain Standard Time", "America/Denver",
                "America/Edmonton America/Cambridge_Bay America/Inuvik America/Boise MST7MDT"},
    WindowsZone{"Central America Standard Time", "America/Guatemala",
                "America/Belize America/Costa_Rica Pacific/Galapagos America/Tegucigalpa "
                "America/Managua America/El_Salvador"},
    WindowsZone{"Central Standard Time", "America/Chicago",
                "America/Winnipeg America/Rankin_Inlet America/Resolute America/Matamoros "
                "America/Indiana/Knox America/Indiana/Tell_City America/Menominee "
                "America/North_Dakota/Beulah America/North_Dakota/Center "
                "America/North_Dakota/New_Salem CST6CDT"},
    WindowsZone{"Central Standard Time (Mexico)", "America/Mexico_City",
                "America/Bahia_Banderas America/Merida America/Monterrey"},
    WindowsZone{"Canada Central Standard Time", "America/Regina", "America/Swift_Current"},
    WindowsZone{"SA Pacific Standard Time", "America/Bogota",
                "America/Rio_Branco America/Eirunepe America/Coral_Harbour America/Guayaquil "
                "America/Jamaica America/Cayman America/Panama America/Lima"},
    WindowsZone{"Eastern Standard Time (Mexico)", "America/Cancun", ""},
    WindowsZone{"Eastern Standard Time", "America/New_York",
                "America/Nassau America/Toronto America/Iqaluit America/Detroit "
                "America/Indiana/Petersburg America/Indiana/Vincennes America/Indiana/Winamac "
                "America/Kentucky/Monticello America/Louisville America/Indianapolis "
                "America/Indiana/Indianapolis America/Kentucky/Louisville EST5EDT"},
    WindowsZone{"Venezuela Standard Time", "America/Caracas", ""},
    WindowsZone{"Atlantic Standard Time", "America/Halifax",
                "Atlantic/Bermuda America/Glace_Bay America/Goose_Bay America/Moncton "
                "America/Thule"},
    WindowsZone{"SA Western Standard Time", "America/La_Paz",
                "America/Antigua America/Anguilla America/Aruba America/Barbados "
                "America/Manaus America/Boa_Vista America/Porto_Velho America/Curacao "
                "America/Dominica America/Santo_Domingo America/Grenada America/Guadeloupe "
                "America/Guyana America/Martinique America/Montserrat America/Puerto_Rico "
                "America/Port_of_Spain America/St_Thomas America/Tortola"},
    WindowsZone{"Pacific SA Standard Time", "America/Santiago", ""},
    WindowsZone{"Newfoundland Standard Time", "America/St_Johns", ""},
    WindowsZone{"E. South America Standard Time", "America/Sao_Paulo", ""},
    WindowsZone{"Argentina Standard Time", "America/Buenos_Aires",
                "America/Argentina/Buenos_Aires America/Argentina/La_Rioja "
                "America/Argentina/Rio_Gallegos America/Argentina/Salta "
                "America/Argentina/San_Juan America/Argentina/San_Luis "
                "America/Argentina/Tucuman America/Argentina/Ushuaia America/Catamarca "
                "America/Cordoba America/Jujuy America/Mendoza"},
    WindowsZone{"SA Eastern Standard Time", "America/Cayenne",
                "Antarctica/Rothera Antarctica/Palmer America/Fortaleza America/Belem "
                "America/Maceio America/Recife America/Santarem Atlantic/Stanley "
                "America/Paramaribo"},
    WindowsZone{"Greenland Standard Time", "America/Godthab", "America/Nuuk"},
    WindowsZone{"Montevideo Standard Time", "America/Montevideo", ""},
    WindowsZone{"UTC-02", "Etc/GMT+2", "America/Noronha Atlantic/South_Georgia"},
    WindowsZone{"Azores Standard Time", "Atlantic/Azores", "America/Scoresbysund"},
    WindowsZone{"Cape Verde Standard Time", "Atlantic/Cape_Verde", ""},
    WindowsZone{"UTC", "Etc/UTC", "Etc/GMT UTC GMT"},
    WindowsZone{"GMT Standard Time", "Europe/London",
                "Atlantic/Canary Atlantic/Faeroe Atlantic/Faroe Europe/Guernsey Europe/Dublin "
                "Europe/Isle_of_Man Europe/Jersey Europe/Lisbon Atlantic/Madeira"},
    WindowsZone{"Greenwich Standard Time", "Atlantic/Reykjavik",
                "Africa/Ouagadougou Africa/Abidjan Africa/Accra Africa/Banjul Africa/Conakry "
                "Africa/Bissau Africa/Monrovia Africa/Bamako Africa/Nouakchott "
                "Atlantic/St_Helena Africa/Freetown Africa/Dakar Africa/Lome"},
    WindowsZone{"Morocco Standard Time", "Africa/Casablanca", "Africa/El_Aaiun"},
    WindowsZone{"W. Europe Standard Time", "Europe/Berlin",
                "Europe/Andorra Europe/Vienna Europe/Zurich Europe/Busingen Europe/Gibraltar "
                "Europe/Rome Europe/Vaduz Europe/Luxembourg Europe/Monaco Europe/Malta "
                "Europe/Amsterdam Europe/Oslo Europe/Stockholm Arctic/Longyearbyen "
                "Europe/San_Marino Europe/Vatican"},
    WindowsZone{"Central Europe Standard Time", "Europe/Budapest",
                "Europe/Tirane Europe/Prague Europe/Podgorica Europe/Belgrade Europe/Ljubljana "
                "Europe/Bratislava"},
    WindowsZone{"Romance Standard Time", "Europe/Paris",
                "Europe/Brussels Europe/Copenhagen Europe/Madrid Africa/Ceuta"},
    WindowsZone{"Central European Standard Time", "Europe/Warsaw",
                "Europe/Sarajevo Europe/Zagreb Europe/Skopje"},
    WindowsZone{"W. Central Africa Standard Time", "Africa/Lagos",
                "Africa/Luanda Africa/Porto-Novo Africa/Kinshasa Africa/Bangui "
                "Africa/Brazzaville Africa/Douala Africa/Algiers Africa/Libreville "
                "Africa/Malabo Africa/Niamey Africa/Ndjamena Africa/Tunis"},
    WindowsZone{"Jordan Standard Time", "Asia/Amman", ""},
    WindowsZone{"GTB Standard Time", "Europe/Bucharest",
                "Asia/Nicosia Asia/Famagusta Europe/Athens"},
    WindowsZone{"Middle East Standard Time", "Asia/Beirut", ""},
    WindowsZone{"Egypt Standard Time", "Africa/Cairo", ""},
    WindowsZone{"E. Europe Standard Time", "Europe/Chisinau", ""},
    WindowsZone{"Syria Standard Time", "Asia/Damascus", ""},
    WindowsZone{"South Africa Standard Time", "Africa/Johannesburg",
                "Africa/Bujumbura Africa/Gaborone Africa/Lubumbashi Africa/Maseru "
                "Africa/Blantyre Africa/Maputo Africa/Kigali Africa/Mbabane Africa/Lusaka "
                "Africa/Harare"},
    WindowsZone{"FLE Standard Time", "Europe/Kiev",
                "Europe/Kyiv Europe/Mariehamn Europe/Sofia Europe/Tallinn Europe/Helsinki "
                "Europe/Vilnius Europe/Riga"},
    WindowsZone{"Israel Standard Time", "Asia/Jerusalem", "Asia/Tel_Aviv"},
    WindowsZone{"Kaliningrad Standard Time", "Europe/Kaliningrad", ""},
    WindowsZone{"Arabic Standard Time", "Asia/Baghdad", ""},
    WindowsZone{"Turkey Standard Time", "Europe/Istanbul", "Asia/Istanbul"},
    WindowsZone{"Arab Standard Time", "Asia/Riyadh",
                "Asia/Bahrain Asia/Kuwait Asia/Qatar Asia/Aden"},
    WindowsZone{"Belarus Standard Time", "Europe/Minsk", ""},
    WindowsZone{"Russian Standard Time", "Europe/Moscow", "Europe/Kirov Europe/Simferopol"},
    WindowsZone{"E. Africa Standard Time", "Africa/Nairobi",
                "Africa/Djibouti Africa/Asmera Africa/Addis_Ababa Indian/Comoro "
                "Indian/Antananarivo Africa/Mogadishu Africa/Dar_es_Salaam Africa/Kampala "
                "Indian/Mayotte"},
    WindowsZone{"Iran Standard Time", "Asia/Tehran", ""},
    WindowsZone{"Arabian Standard Time", "Asia/Dubai", "Asia/Muscat"},
    WindowsZone{"Azerbaijan Standard Time", "Asia/Baku", ""},
    WindowsZone{"Georgian Standard Time", "Asia/Tbilisi", ""},
    WindowsZone{"Caucasus Standard Time", "Asia/Yerevan", ""},
    WindowsZone{"Afghanistan Standard Time", "Asia/Kabul", ""},
    WindowsZone{"Ekaterinburg Standard Time", "Asia/Yekaterinburg", ""},
    WindowsZone{"Pakistan Standard Time", "Asia/Karachi", ""},
    WindowsZone{"West Asia Standard Time", "Asia/Tashkent", "Asia/Samarkand Asia/Dushanbe"},
    WindowsZone{"India Standard Time", "Asia/Calcutta", "Asia/Kolkata"},
    WindowsZone{"Sri Lanka Standard Time", "Asia/Colombo", ""},
    WindowsZone{"Nepal Standard Time", "Asia/Katmandu", "Asia/Kathmandu"},
    WindowsZone{"Bangladesh Standard Time", "Asia/Dhaka", "Asia/Thimphu"},
    WindowsZone{"Myanmar Standard Time", "Asia/Rangoon", "Asia/Yangon Indian/Cocos"},
    WindowsZone{"SE Asia Standard Time", "Asia/Bangkok",
                "Asia/Jakarta Asia/Pontianak Asia/Phnom_Penh Asia/Vientiane Asia/Saigon "
                "Asia/Ho_Chi_Minh Indian/Christmas"},
    WindowsZone{"N. Central Asia Standard Time", "Asia/Novosibirsk", ""},
    WindowsZone{"North Asia Standard Time", "Asia/Krasnoyarsk", "Asia/Novokuznetsk"},
    WindowsZone{"China Standard Time", "Asia/Shanghai", "Asia/Hong_Kong Asia/Macau"},
    WindowsZone{"Singapore Standard Time", "Asia/Singapore",
                "Asia/Brunei Asia/Makassar Asia/Kuala_Lumpur Asia/Kuching Asia/Manila"},
    WindowsZone{"W. Australia Standard Time", "Australia/Perth", ""},
    WindowsZone{"Taipei Standard Time", "Asia/Taipei", ""},
    WindowsZone{"Ulaanbaatar Standard Time", "Asia/Ulaanbaatar", ""},
    WindowsZone{"Tokyo Standard Time", "Asia/Tokyo", "Asia/Jayapura Pacific/Palau Asia/Dili"},
    WindowsZone{"Korea Standard Time", "Asia/Seoul", ""},
    WindowsZone{"Yakutsk Standard Time", "Asia/Yakutsk", "Asia/Khandyga"},
    WindowsZone{"Cen. Australia Standard Time", "Australia/Adelaide", "Australia/Broken_Hill"},
    WindowsZone{"AUS Central Standard Time", "Australia/Darwin", ""},
    WindowsZone{"E. Australia Standard Time", "Australia/Brisbane", "Australia/Lindeman"},
    WindowsZone{"AUS Eastern Standard Time", "Australia/Sydney", "Australia/Melbourne"},
    WindowsZone{"West Pacific Standard Time", "Pacific/Port_Moresby",
                "Antarctica/DumontDUrville Pacific/Truk Pacific/Guam Pacific/Saipan"},
    WindowsZone{"Tasmania Standard Time", "Australia/Hobart", ""},
    WindowsZone{"Vladivostok Standard Time", "Asia/Vladivostok", "Asia/Ust-Nera"},
    WindowsZone{"Magadan Standard Time", "Asia/Magadan", ""},
    WindowsZone{"Central Pacific Standard Time", "Pacific/Guadalcanal",
                "Antarctica/Macquarie Pacific/Ponape Pacific/Kosrae Pacific/Noumea "
                "Pacific/Efate"},
    WindowsZone{"New Zealand Standard Time", "Pacific/Auckland", "Antarctica/McMurdo"},
    WindowsZone{"UTC+12", "Etc/GMT-12",
                "Pacific/Tarawa Pacific/Majuro Pacific/Kwajalein Pacific/Nauru "
                "Pacific/Funafuti Pacific/Wake Pacific/Wallis"},
    WindowsZone{"Fiji Standard Time", "Pacific/Fiji", ""},
    WindowsZone{"Tonga Standard Time", "Pacific/Tongatapu", ""},
    WindowsZone{"Samoa Standard Time", "Pacific/Apia", ""},
    WindowsZone{"Line Islands Standard Time", "Pacific/Kiritimati", ""},
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return lower(x) == lower(y); });
}

bool ListContains(std::string_view list, std::string_view name) {
  while (!list.empty()) {
    const size_t space = list.find(' ');
    if (list.substr(0, space) == name) return true;
    if (space == std::string_view::npos) break;
    list.remove_prefix(space + 1);
  }
  return false;
}

}  // namespace

std::optional<std::string> WindowsToIana(std::string_view windows_name) {
  for (const WindowsZone& zone : kWindowsZones) {
    if (EqualsIgnoreCase(zone.windows, windows_name)) return std::string(zone.golden);
  }
  return std::nullopt;
}

std::optional<std::string> IanaToWindows(std::string_view iana) {
  if (iana.empty()) return std::nullopt;
  for (const WindowsZone& zone : kWindowsZones) {
    if (zone.golden == iana || ListContains(zone.others, iana)) return std::string(zone.windows);
  }
  return std::nullopt;
}

std::vector<std::string_view> WindowsZoneNames() {
  std::vector<std::string_view> names;
  names.reserve(kWindowsZones.size());
  for (const WindowsZone& zone : kWindowsZones) names.push_back(zone.windows);
  return names;
}

sb::Result<std::string> ResolveZone(std::string_view name) {
  // IANA first: "UTC" is both an IANA and a Windows name and should stay as given.
  if (IsKnownZone(name)) return std::string(name);
  if (std::optional<std::string> iana = WindowsToIana(name)) return *std::move(iana);
  return sb::InvalidArgumentError("unknown time zone \"" + std::string(name) +
                                  "\" (neither an IANA nor a known Windows zone name)");
}

}  // namespace sb::caltime
