#include "app/data_document.hpp"

#include <yaml-cpp/yaml.h>

#include <charconv>
#include <cmath>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unordered_map>

#include "functions/yaml_scalar.hpp"

namespace templet {

namespace {

// Builds Values straight from the parser's events: no intermediate JSON tree, so a large data
// file costs its Values and nothing more.
class ValueBuilder : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit ValueBuilder(std::string_view text) : text_(text) {}

  bool null() override { return add(Value::nil()); }
  bool boolean(bool b) override { return add(Value::boolean(b)); }
  bool number_integer(number_integer_t i) override { return add(Value::integer(i, &types::int64)); }
  bool number_unsigned(number_unsigned_t u) override {
    if (u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      return add(Value::integer(static_cast<int64_t>(u), &types::int64));
    return add(Value::floating(static_cast<double>(u)));
  }
  bool number_float(number_float_t f, const string_t&) override { return add(Value::floating(f)); }
  bool string(string_t& s) override { return add(Value::string(std::move(s))); }
  bool binary(binary_t&) override { return false; }
  bool start_object(std::size_t) override {
    stack_.push_back(Frame{true, {}, {}, {}});
    return true;
  }
  bool key(string_t& k) override {
    stack_.back().key = std::move(k);
    return true;
  }
  bool end_object() override {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    return add(Value::map(std::move(f.entries)));
  }
  // Object keys repeat across a document (every item has the same fields): share one Value
  // per distinct key instead of allocating each.
  Value key_value(std::string&& k) {
    auto it = keys_.find(k);
    if (it != keys_.end()) return it->second;
    Value v = Value::string(k);
    keys_.emplace(std::move(k), v);
    return v;
  }
  bool start_array(std::size_t) override {
    stack_.push_back(Frame{false, {}, {}, {}});
    return true;
  }
  bool end_array() override {
    Frame f = std::move(stack_.back());
    stack_.pop_back();
    return add(Value::list(std::move(f.items)));
  }
  bool parse_error(std::size_t pos, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    error_pos_ = pos;
    error_ = ex.what();
    return false;
  }

  Value result() { return std::move(result_); }
  bool failed() const { return !error_.empty(); }
  std::string error_message(const std::string& file) const {
    // nlohmann's text starts with "[json.exception.parse_error.101] parse error at line L,
    // column C: "; keep only what follows, since we print FILE:LINE:COL ourselves.
    std::string msg = error_;
    if (auto p = msg.find(": "); p != std::string::npos && msg.find("parse error") < p)
      msg = msg.substr(p + 2);
    size_t pos = std::min(error_pos_ > 0 ? error_pos_ - 1 : 0, text_.size());
    int line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < pos; ++i)
      if (text_[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    return file + ":" + std::to_string(line) + ":" + std::to_string(pos - line_start + 1) + ": " +
           msg;
  }

 private:
  struct Frame {
    bool is_object;
    std::string key;
    std::vector<Value> items;
    std::vector<std::pair<Value, Value>> entries;
  };
  bool add(Value v) {
    if (stack_.empty()) {
      result_ = std::move(v);
    } else if (stack_.back().is_object) {
      stack_.back().entries.emplace_back(key_value(std::move(stack_.back().key)), std::move(v));
    } else {
      stack_.back().items.push_back(std::move(v));
    }
    return true;
  }

  std::string_view text_;
  std::vector<Frame> stack_;
  std::unordered_map<std::string, Value> keys_;
  Value result_;
  std::string error_;
  size_t error_pos_ = 0;
};

Value yaml_scalar(const YAML::Node& n) {
  YamlScalar r = resolve_yaml_scalar(n);
  switch (r.kind) {
    case YamlScalar::Kind::Null:
      return Value::nil();
    case YamlScalar::Kind::Bool:
      return Value::boolean(r.boolean);
    case YamlScalar::Kind::Int:
      return Value::integer(r.integer, &types::int64);
    case YamlScalar::Kind::Float:
      return Value::floating(r.floating);
    case YamlScalar::Kind::String:
      break;
  }
  return Value::string(n.Scalar());
}

Value from_yaml(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      return Value::nil();
    case YAML::NodeType::Scalar:
      return yaml_scalar(n);
    case YAML::NodeType::Sequence: {
      std::vector<Value> items;
      items.reserve(n.size());
      for (const auto& x : n) items.push_back(from_yaml(x));
      return Value::list(std::move(items));
    }
    case YAML::NodeType::Map: {
      std::vector<std::pair<Value, Value>> entries;
      entries.reserve(n.size());
      for (const auto& kv : n)
        entries.emplace_back(Value::string(kv.first.Scalar()), from_yaml(kv.second));
      return Value::map(std::move(entries));
    }
  }
  return Value::nil();
}

int hex4(std::string_view s, size_t i) {
  if (i + 4 > s.size()) return -1;
  int v = 0;
  for (size_t k = i; k < i + 4; ++k) {
    char c = s[k];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

// Go's decoder turns an unpaired UTF-16 surrogate escape into U+FFFD; nlohmann rejects it.
// Rewrites such escapes to \ufffd (only inside strings, only when unpaired).
std::string replace_lone_surrogates(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (!in_string) {
      if (c == '"') in_string = true;
      out += c;
      continue;
    }
    if (c == '"') {
      in_string = false;
      out += c;
      continue;
    }
    if (c != '\\' || i + 1 >= text.size()) {
      out += c;
      continue;
    }
    if (text[i + 1] != 'u') {
      out += c;
      out += text[++i];
      continue;
    }
    int v = hex4(text, i + 2);
    if (v >= 0xD800 && v <= 0xDBFF) {
      int low = (i + 7 < text.size() && text[i + 6] == '\\' && text[i + 7] == 'u')
                    ? hex4(text, i + 8)
                    : -1;
      if (low >= 0xDC00 && low <= 0xDFFF) {
        out.append(text.substr(i, 12));
        i += 11;
        continue;
      }
      out += "\\ufffd";
      i += 5;
      continue;
    }
    if (v >= 0xDC00 && v <= 0xDFFF) {
      out += "\\ufffd";
      i += 5;
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

bool read_whole_file(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return false;
  auto size = in.tellg();
  out.resize(size > 0 ? static_cast<size_t>(size) : 0);
  in.seekg(0);
  if (!out.empty() && !in.read(out.data(), static_cast<std::streamsize>(out.size()))) return false;
  // A file whose size was not known up front (a pipe): read the rest.
  std::stringstream rest;
  rest << in.rdbuf();
  out += rest.str();
  return true;
}

Value parse_json_document(std::string_view text, const std::string& file) {
  ValueBuilder builder(text);
  nlohmann::json::sax_parse(text.begin(), text.end(), &builder);
  if (!builder.failed()) return builder.result();
  // Retry once with unpaired surrogates replaced, as Go's decoder accepts them.
  if (text.find("\\u") != std::string_view::npos) {
    std::string fixed = replace_lone_surrogates(text);
    if (fixed != text) {
      ValueBuilder again(fixed);
      nlohmann::json::sax_parse(fixed.begin(), fixed.end(), &again);
      if (!again.failed()) return again.result();
    }
  }
  throw DataError(builder.error_message(file));
}

Value parse_yaml_document(std::string_view text, const std::string& file) {
  try {
    return from_yaml(YAML::Load(std::string(text)));
  } catch (const YAML::Exception& e) {
    throw DataError(file + ":" + std::to_string(e.mark.line + 1) + ":" +
                    std::to_string(e.mark.column + 1) + ": " + e.msg);
  }
}

Value load_data_document(const std::string& path) {
  std::string text;
  if (!read_whole_file(path, text))
    throw DataError(path + ": cannot open: " + std::strerror(errno));
  size_t first = text.find_first_not_of(" \t\r\n");
  bool json = path.size() >= 5 && path.compare(path.size() - 5, 5, ".json") == 0;
  if (!json && first != std::string::npos && (text[first] == '{' || text[first] == '['))
    json = true;
  return json ? parse_json_document(text, path) : parse_yaml_document(text, path);
}

}  // namespace templet
