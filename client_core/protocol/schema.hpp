// The declarative message schema: each message struct lists its fields once, and this header
// turns that list into encode and decode for every version.
//
//   struct FooRequest {
//     std::string name;
//     std::optional<std::vector<int32_t>> ids;
//     UnknownTags unknown_tags;
//     static constexpr auto fields() {
//       return std::tuple{field("name", &FooRequest::name, since(0)),
//                         field("ids", &FooRequest::ids, since(1), {.nullable = since(2)})};
//     }
//     bool operator==(const FooRequest&) const = default;
//   };
//
// The wire type follows from the C++ type of the member:
//   int8_t int16_t int32_t int64_t uint16_t uint32_t double bool  fixed width
//   Uuid                        uuid (16 bytes)
//   std::string                 string  (compact in flexible versions)
//   Bytes                       bytes
//   Records                     records (bytes that may be null)
//   std::vector<T>              array of T
//   a struct with fields()      a nested structure
//   std::optional<X>            X, nullable in the versions given by `nullable`
//                               (a nullable struct carries an int8 presence marker)
// A field with a `tag` is a tagged field in every (flexible) version it exists in; it is written
// only when it differs from its default. Tags we do not know are kept in `unknown_tags` and
// written back unchanged. Fields outside the version being encoded are skipped; when decoding
// they keep their default member initializer.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

#include "client_core/protocol/codec.hpp"
#include "client_core/protocol/result.hpp"

namespace kafka::protocol {

inline constexpr int16_t kNoMaxVersion = 0x7fff;

// An inclusive range of versions.
struct Versions {
  int16_t min = 1;
  int16_t max = 0;  // default: the empty range
  constexpr bool contains(int16_t v) const { return v >= min && v <= max; }
};
constexpr Versions since(int16_t v) { return {v, kNoMaxVersion}; }
constexpr Versions between(int16_t lo, int16_t hi) { return {lo, hi}; }
inline constexpr Versions kNever{};

struct FieldOptions {
  Versions nullable = kNever;
  int32_t tag = -1;
  // Decode a null where the schema allows none as the empty value rather than fail: for
  // response fields that some brokers (librdkafka's mock, in error responses) write as null.
  bool null_as_empty = false;
};

template <class Owner, class Member>
struct Field {
  std::string_view name;
  Member Owner::*member;
  Versions versions;
  FieldOptions options;
};

template <class Owner, class Member>
constexpr Field<Owner, Member> field(std::string_view name, Member Owner::*member,
                                     Versions versions, FieldOptions options = {}) {
  return {name, member, versions, options};
}

// A tagged field we have no definition for, kept verbatim.
struct UnknownTag {
  uint32_t tag = 0;
  Bytes data;
  bool operator==(const UnknownTag&) const = default;
};
using UnknownTags = std::vector<UnknownTag>;

// What an encode or decode needs to know besides the value: the message version and whether
// that version is flexible (compact strings/arrays, tagged fields).
struct SchemaContext {
  int16_t version;
  bool flexible;
};

namespace detail {

template <class T>
concept Schema = requires { T::fields(); };

template <class T>
struct IsVector : std::false_type {};
template <class T>
struct IsVector<std::vector<T>> : std::true_type {};

template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {
  using Inner = T;
};

template <class T>
void encodeStruct(Writer& w, const T& value, const SchemaContext& ctx);
template <class T>
void decodeStruct(Reader& r, T& value, const SchemaContext& ctx);
template <class T>
void decodeValue(Reader& r, T& v, const SchemaContext& ctx);

// The fewest bytes a value of type T can take on the wire at this version (nulls and empty
// strings and arrays count as their length prefix alone).
template <class T>
constexpr size_t minWireSize(const SchemaContext& ctx) {
  if constexpr (std::is_arithmetic_v<T>) {
    return sizeof(T);
  } else if constexpr (std::is_same_v<T, Uuid>) {
    return 16;
  } else if constexpr (IsOptional<T>::value) {
    if constexpr (Schema<typename IsOptional<T>::Inner>) return 1;  // the presence marker
    return minWireSize<typename IsOptional<T>::Inner>(ctx);
  } else if constexpr (std::is_same_v<T, std::string>) {
    return ctx.flexible ? 1 : 2;
  } else if constexpr (Schema<T>) {
    size_t total = ctx.flexible ? 1 : 0;  // the tagged-field count
    std::apply(
        [&](const auto&... f) {
          ((total += f.versions.contains(ctx.version) && f.options.tag < 0
                         ? minWireSize<std::remove_cvref_t<decltype(T{}.*(f.member))>>(ctx)
                         : 0),
           ...);
        },
        T::fields());
    return total;
  } else {
    return ctx.flexible ? 1 : 4;  // bytes, records, arrays: their length prefix
  }
}

// Encodes one non-null value.
template <class T>
void encodeValue(Writer& w, const T& v, const SchemaContext& ctx) {
  if constexpr (std::is_same_v<T, bool>) {
    w.boolean(v);
  } else if constexpr (std::is_same_v<T, int8_t>) {
    w.int8(v);
  } else if constexpr (std::is_same_v<T, int16_t>) {
    w.int16(v);
  } else if constexpr (std::is_same_v<T, uint16_t>) {
    w.uint16(v);
  } else if constexpr (std::is_same_v<T, int32_t>) {
    w.int32(v);
  } else if constexpr (std::is_same_v<T, uint32_t>) {
    w.uint32(v);
  } else if constexpr (std::is_same_v<T, int64_t>) {
    w.int64(v);
  } else if constexpr (std::is_same_v<T, double>) {
    w.float64(v);
  } else if constexpr (std::is_same_v<T, Uuid>) {
    w.uuid(v);
  } else if constexpr (std::is_same_v<T, std::string>) {
    w.string(v, ctx.flexible);
  } else if constexpr (std::is_same_v<T, Bytes>) {
    w.bytes(v, ctx.flexible);
  } else if constexpr (std::is_same_v<T, Records>) {
    w.bytes(v.data, ctx.flexible);
  } else if constexpr (IsVector<T>::value) {
    w.arrayLength(v.size(), ctx.flexible);
    for (const auto& element : v) encodeValue(w, element, ctx);
  } else if constexpr (Schema<T>) {
    encodeStruct(w, v, ctx);
  } else {
    static_assert(sizeof(T) == 0, "no wire encoding for this member type");
  }
}

template <class T>
void encodeNull(Writer& w, const SchemaContext& ctx) {
  if constexpr (std::is_same_v<T, std::string>) {
    w.nullableString(std::nullopt, ctx.flexible);
  } else if constexpr (std::is_same_v<T, Bytes> || std::is_same_v<T, Records>) {
    w.nullBytes(ctx.flexible);
  } else if constexpr (IsVector<T>::value) {
    w.nullArray(ctx.flexible);
  } else if constexpr (Schema<T>) {
    w.int8(-1);
  } else {
    static_assert(sizeof(T) == 0, "this member type cannot be null on the wire");
  }
}

// Decodes a value that may be null on the wire; returns false (reader still ok) for a null.
template <class T>
bool decodeNullable(Reader& r, T& v, const SchemaContext& ctx) {
  if constexpr (std::is_same_v<T, std::string>) {
    auto s = r.nullableString(ctx.flexible);
    if (s) v = std::move(*s);
    return s.has_value();
  } else if constexpr (std::is_same_v<T, Bytes>) {
    auto b = r.nullableBytes(ctx.flexible);
    if (b) v = std::move(*b);
    return b.has_value();
  } else if constexpr (std::is_same_v<T, Records>) {
    auto records = r.nullableRecords(ctx.flexible);
    if (records) v = std::move(*records);
    return records.has_value();
  } else if constexpr (IsVector<T>::value) {
    size_t at = r.position();
    std::optional<size_t> n = r.arrayLength(ctx.flexible);
    if (!n) return false;
    // A hostile count must not make us allocate: every element takes at least its minimum
    // encoded size, so a count those bytes cannot hold is a lie we refuse before allocating.
    const size_t element_size = std::max<size_t>(1, minWireSize<typename T::value_type>(ctx));
    if (*n > r.remaining() / element_size) {
      r.fail("array count " + std::to_string(*n) + " at offset " + std::to_string(at) +
             " needs at least " + std::to_string(*n * element_size) + " bytes but only " +
             std::to_string(r.remaining()) + " remain");
      return true;
    }
    v.clear();
    v.reserve(*n);
    for (size_t i = 0; i < *n; ++i) {
      decodeValue(r, v.emplace_back(), ctx);
      if (!r.ok()) {
        r.prependPath("[" + std::to_string(i) + "]");
        break;
      }
    }
    return true;
  } else if constexpr (Schema<T>) {
    int8_t marker = r.int8();
    if (marker < 0) return false;
    decodeStruct(r, v, ctx);
    return true;
  } else {
    static_assert(sizeof(T) == 0, "this member type cannot be null on the wire");
  }
}

template <class T>
void decodeValue(Reader& r, T& v, const SchemaContext& ctx);

// Decodes a value that the schema does not allow to be null, unless `options` read a null as
// empty.
template <class T>
void decodeNonNull(Reader& r, T& v, const FieldOptions& options, const SchemaContext& ctx) {
  if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, Bytes>) {
    if (options.null_as_empty) {
      if (!decodeNullable(r, v, ctx)) v = T{};
      return;
    }
  }
  decodeValue(r, v, ctx);
}

// Decodes one value where null is not allowed.
template <class T>
void decodeValue(Reader& r, T& v, const SchemaContext& ctx) {
  if constexpr (std::is_same_v<T, bool>) {
    v = r.boolean();
  } else if constexpr (std::is_same_v<T, int8_t>) {
    v = r.int8();
  } else if constexpr (std::is_same_v<T, int16_t>) {
    v = r.int16();
  } else if constexpr (std::is_same_v<T, uint16_t>) {
    v = r.uint16();
  } else if constexpr (std::is_same_v<T, int32_t>) {
    v = r.int32();
  } else if constexpr (std::is_same_v<T, uint32_t>) {
    v = r.uint32();
  } else if constexpr (std::is_same_v<T, int64_t>) {
    v = r.int64();
  } else if constexpr (std::is_same_v<T, double>) {
    v = r.float64();
  } else if constexpr (std::is_same_v<T, Uuid>) {
    v = r.uuid();
  } else if constexpr (Schema<T>) {
    decodeStruct(r, v, ctx);
  } else {
    size_t at = r.position();
    if (!decodeNullable(r, v, ctx) && r.ok()) {
      r.fail("null at offset " + std::to_string(at) + " where null is not allowed");
    }
  }
}

template <class Owner, class Member>
void encodeField(Writer& w, const Owner& owner, const Field<Owner, Member>& f,
                 const SchemaContext& ctx) {
  const Member& v = owner.*(f.member);
  if constexpr (IsOptional<Member>::value) {
    using Inner = typename IsOptional<Member>::Inner;
    if (v) {
      if constexpr (Schema<Inner>) {
        if (f.options.nullable.contains(ctx.version)) w.int8(1);
      }
      encodeValue(w, *v, ctx);
    } else if (f.options.nullable.contains(ctx.version)) {
      encodeNull<Inner>(w, ctx);
    } else {
      // Not nullable in this version: the closest honest encoding is the empty value.
      encodeValue(w, Inner{}, ctx);
    }
  } else {
    encodeValue(w, v, ctx);
  }
}

template <class Owner, class Member>
void decodeField(Reader& r, Owner& owner, const Field<Owner, Member>& f,
                 const SchemaContext& ctx) {
  Member& v = owner.*(f.member);
  if constexpr (IsOptional<Member>::value) {
    using Inner = typename IsOptional<Member>::Inner;
    if (f.options.nullable.contains(ctx.version)) {
      Inner inner{};
      if (decodeNullable(r, inner, ctx)) {
        v = std::move(inner);
      } else {
        v.reset();
      }
    } else {
      v.emplace();
      decodeNonNull(r, *v, f.options, ctx);
    }
  } else {
    decodeNonNull(r, v, f.options, ctx);
  }
  if (!r.ok()) r.prependPath(f.name);
}

template <class Owner, class Member>
bool isDefault(const Owner& owner, const Field<Owner, Member>& f) {
  static const Owner kDefault{};
  return owner.*(f.member) == kDefault.*(f.member);
}

template <class T>
void encodeStruct(Writer& w, const T& value, const SchemaContext& ctx) {
  constexpr auto fields = T::fields();
  // Regular fields, in declaration order.
  std::apply(
      [&](const auto&... f) {
        ((f.versions.contains(ctx.version) && f.options.tag < 0 ? encodeField(w, value, f, ctx)
                                                                 : void()),
         ...);
      },
      fields);
  if (!ctx.flexible) return;

  // Tagged fields: known ones that differ from their default, plus unknown ones kept from
  // decoding, in ascending tag order.
  struct Pending {
    uint32_t tag;
    Bytes data;
  };
  std::vector<Pending> tagged;
  std::apply(
      [&](const auto&... f) {
        (
            [&] {
              if (f.options.tag >= 0 && f.versions.contains(ctx.version) && !isDefault(value, f)) {
                Pending p{static_cast<uint32_t>(f.options.tag), {}};
                Writer sub(p.data);
                encodeField(sub, value, f, ctx);
                tagged.push_back(std::move(p));
              }
            }(),
            ...);
      },
      fields);
  for (const UnknownTag& u : value.unknown_tags) tagged.push_back({u.tag, u.data});
  std::stable_sort(tagged.begin(), tagged.end(),
                   [](const Pending& a, const Pending& b) { return a.tag < b.tag; });
  w.unsignedVarint(static_cast<uint32_t>(tagged.size()));
  for (const Pending& p : tagged) {
    w.unsignedVarint(p.tag);
    w.unsignedVarint(static_cast<uint32_t>(p.data.size()));
    w.raw(p.data);
  }
}

template <class T>
void decodeTaggedFields(Reader& r, T& value, const SchemaContext& ctx) {
  constexpr auto fields = T::fields();
  uint32_t count = r.unsignedVarint();
  if (r.ok() && count > r.remaining()) {
    r.fail("tagged field count " + std::to_string(count) + " exceeds the " +
           std::to_string(r.remaining()) + " bytes that remain");
  }
  value.unknown_tags.clear();
  int64_t previous = -1;
  for (uint32_t i = 0; i < count && r.ok(); ++i) {
    uint32_t tag = r.unsignedVarint();
    uint32_t size = r.unsignedVarint();
    if (!r.ok()) break;
    if (static_cast<int64_t>(tag) <= previous) {
      r.fail("tagged field " + std::to_string(tag) + " out of order or repeated");
      break;
    }
    previous = tag;
    if (size > r.remaining()) {
      r.fail("tagged field " + std::to_string(tag) + " size " + std::to_string(size) +
             " exceeds the " + std::to_string(r.remaining()) + " bytes that remain");
      break;
    }
    Reader sub = r.sub(size);
    bool known = false;
    std::apply(
        [&](const auto&... f) {
          (
              [&] {
                if (!known && f.options.tag == static_cast<int32_t>(tag) &&
                    f.versions.contains(ctx.version)) {
                  known = true;
                  decodeField(sub, value, f, ctx);
                  if (sub.ok() && sub.remaining() != 0) {
                    sub.fail(std::to_string(sub.remaining()) + " unread bytes in tagged field");
                    sub.prependPath(f.name);
                  }
                }
              }(),
              ...);
        },
        fields);
    if (!known) {
      ByteView data = sub.take(size);
      value.unknown_tags.push_back({tag, Bytes(data.begin(), data.end())});
    }
    if (!sub.ok()) r.fail(sub.error());
  }
}

template <class T>
void decodeStruct(Reader& r, T& value, const SchemaContext& ctx) {
  constexpr auto fields = T::fields();
  std::apply(
      [&](const auto&... f) {
        ((r.ok() && f.versions.contains(ctx.version) && f.options.tag < 0
              ? decodeField(r, value, f, ctx)
              : void()),
         ...);
      },
      fields);
  if (ctx.flexible && r.ok()) decodeTaggedFields(r, value, ctx);
}

}  // namespace detail

// Encodes a message body (no header) at `version`.
template <class T>
void encodeMessage(Writer& w, const T& message, const SchemaContext& ctx) {
  detail::encodeStruct(w, message, ctx);
}

// Decodes a message body that must span all of `r`. Trailing bytes are an error.
template <class T>
Result<T> decodeMessage(Reader& r, const SchemaContext& ctx, std::string_view message_name) {
  T message{};
  detail::decodeStruct(r, message, ctx);
  if (r.ok() && r.remaining() != 0) {
    r.fail(std::to_string(r.remaining()) + " unexpected trailing bytes");
  }
  if (!r.ok()) {
    return Error{ErrorCode::kMalformedMessage, std::string(message_name) + " v" +
                                                    std::to_string(ctx.version) + ": " +
                                                    r.error()};
  }
  return message;
}

}  // namespace kafka::protocol
