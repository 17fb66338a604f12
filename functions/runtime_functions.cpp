// Helpers that depend on the running execution or the clock: executeTemplate (another template
// of the same set, rendered to a string) and timestamp (now, in UTC, in Go's layout language).
#include <chrono>
#include <ctime>

#include "functions/helpers_internal.hpp"

namespace templet::helpers {

namespace {

const char* const kMonths[] = {"January",   "February", "March",    "April",
                               "May",       "June",     "July",     "August",
                               "September", "October",  "November", "December"};
const char* const kDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                             "Thursday", "Friday", "Saturday"};

std::string pad(int v, int width, char fill = '0') {
  std::string s = std::to_string(v);
  while (static_cast<int>(s.size()) < width) s.insert(s.begin(), fill);
  return s;
}

bool starts(std::string_view s, size_t i, std::string_view token) {
  return s.compare(i, token.size(), token) == 0;
}

}  // namespace

// Go's time.Format for a UTC time, covering the layout elements Go documents (reference time
// Mon Jan 2 15:04:05 MST 2006). Zones print as UTC: "Z", "+00:00", "UTC".
std::string go_time_format(std::string_view layout, const std::tm& t, long nanos) {
  std::string out;
  for (size_t i = 0; i < layout.size();) {
    auto take = [&](std::string_view token, const std::string& text) {
      if (!starts(layout, i, token)) return false;
      out += text;
      i += token.size();
      return true;
    };
    if (take("January", kMonths[t.tm_mon]) || take("Jan", std::string(kMonths[t.tm_mon], 3)) ||
        take("Monday", kDays[t.tm_wday]) || take("Mon", std::string(kDays[t.tm_wday], 3)) ||
        take("MST", "UTC") || take("2006", pad(t.tm_year + 1900, 4)) || take("Z07:00", "Z") ||
        take("Z0700", "Z") || take("Z07", "Z") || take("-07:00", "+00:00") ||
        take("-0700", "+0000") || take("-07", "+00") || take("002", pad(t.tm_yday + 1, 3)) ||
        take("01", pad(t.tm_mon + 1, 2)) || take("02", pad(t.tm_mday, 2)) ||
        take("_2", pad(t.tm_mday, 2, ' ')) || take("06", pad((t.tm_year + 1900) % 100, 2)) ||
        take("15", pad(t.tm_hour, 2)) ||
        take("03", pad(t.tm_hour % 12 == 0 ? 12 : t.tm_hour % 12, 2)) ||
        take("04", pad(t.tm_min, 2)) || take("05", pad(t.tm_sec, 2)) ||
        take("PM", t.tm_hour >= 12 ? "PM" : "AM") || take("pm", t.tm_hour >= 12 ? "pm" : "am"))
      continue;
    if ((layout[i] == '.' || layout[i] == ',') && i + 1 < layout.size() &&
        (layout[i + 1] == '0' || layout[i + 1] == '9')) {
      char digit = layout[i + 1];
      size_t j = i + 1;
      while (j < layout.size() && layout[j] == digit) ++j;
      bool number_follows = j < layout.size() && layout[j] >= '0' && layout[j] <= '9';
      if (!number_follows) {
        std::string frac = pad(static_cast<int>(nanos), 9).substr(0, j - i - 1);
        if (digit == '9') {
          while (!frac.empty() && frac.back() == '0') frac.pop_back();
          if (!frac.empty()) out += layout[i] + frac;
        } else {
          out += layout[i] + frac;
        }
        i = j;
        continue;
      }
    }
    if (take("1", std::to_string(t.tm_mon + 1)) || take("2", std::to_string(t.tm_mday)) ||
        take("3", std::to_string(t.tm_hour % 12 == 0 ? 12 : t.tm_hour % 12)) ||
        take("4", std::to_string(t.tm_min)) || take("5", std::to_string(t.tm_sec)))
      continue;
    out += layout[i++];
  }
  return out;
}

void register_runtime(FunctionTable& table) {
  Function exec;
  exec.name = "executeTemplate";
  exec.params = {&types::string, nullptr};
  exec.variadic = true;
  exec.call = [](CallContext& ctx, std::span<const Value> a) -> Value {
    if (a.size() > 2)
      throw FuncError("executeTemplate: wrong number of arguments, expected 1 or 2, got " +
                      std::to_string(a.size()));
    if (!ctx.execute_template) throw FuncError("executeTemplate: no template is executing");
    Value dot = a.size() == 2 && a[1].kind() != Kind::Nil ? a[1] : Value();
    std::string out = ctx.execute_template(a[0].as_string(), dot);
    bool tainted = a.size() == 2 && a[1].tainted();
    return tainted ? Value::tainted_string(std::move(out)) : Value::string(std::move(out));
  };
  table.add(std::move(exec));

  define(
      table, "timestamp", {&types::string},
      [](Args a) {
        if (a.size() > 1) throw FuncError("timestamp: wrong number of arguments, expected 0 or 1");
        auto now = std::chrono::system_clock::now();
        auto secs = std::chrono::system_clock::to_time_t(now);
        long nanos = static_cast<long>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count() %
            1000000000);
        std::tm tm{};
        gmtime_r(&secs, &tm);
        if (a.empty()) return Value::string(go_time_format("2006-01-02T15:04:05Z07:00", tm, 0));
        if (a[0].as_string() == "unix") return Value::string(std::to_string(secs));
        return Value::string(go_time_format(a[0].as_string(), tm, nanos));
      },
      true);
}

}  // namespace templet::helpers
