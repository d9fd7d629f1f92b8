#include "aws/dynamodb_session_store.hpp"

#include <algorithm>
#include <charconv>

#include <boost/json/array.hpp>

namespace qr::aws {
namespace {

namespace json = boost::json;

json::object str(std::string_view v) {
  return {{"S", v}};
}
json::object num(std::int64_t v) {
  return {{"N", std::to_string(v)}};
}
json::object boolean(bool v) {
  return {{"BOOL", v}};
}

const json::object* attr(const json::object& item, std::string_view name) {
  const json::value* v = item.if_contains(name);
  return v && v->is_object() ? &v->as_object() : nullptr;
}

std::optional<std::string> get_s(const json::object& item, std::string_view name) {
  if (const auto* a = attr(item, name)) {
    if (const auto* s = a->if_contains("S"); s && s->is_string())
      return std::string(s->as_string());
  }
  return std::nullopt;
}

// Numbers arrive as strings ({"N": "1700000000"}).
std::optional<std::int64_t> get_n(const json::object& item, std::string_view name) {
  if (const auto* a = attr(item, name)) {
    if (const auto* n = a->if_contains("N"); n && n->is_string()) {
      const auto& text = n->as_string();
      std::int64_t v = 0;
      const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      if (ec == std::errc{} && ptr == text.data() + text.size()) return v;
    }
  }
  return std::nullopt;
}

std::optional<bool> get_bool(const json::object& item, std::string_view name) {
  if (const auto* a = attr(item, name)) {
    if (const auto* b = a->if_contains("BOOL"); b && b->is_bool()) return b->as_bool();
  }
  return std::nullopt;
}

// A slot as a map attribute: {"M": {"fileName": {"S"}, "contentType", "issuedAt", "completed",
// ...}}.
json::object slot_to_attribute(const UploadSlot& slot) {
  json::object m{{"fileName", str(slot.file_name)},
                 {"contentType", str(slot.content_type)},
                 {"issuedAt", num(slot.issued_at)},
                 {"completed", boolean(slot.completed)}};
  if (slot.size) m["size"] = num(*slot.size);
  if (slot.completed_at) m["completedAt"] = num(*slot.completed_at);
  if (slot.index) m["index"] = num(*slot.index);
  if (slot.notified_at) m["notifiedAt"] = num(*slot.notified_at);
  if (slot.notifying_until) m["notifyingUntil"] = num(*slot.notifying_until);
  return {{"M", std::move(m)}};
}

std::vector<UploadSlot> slots_from_item(const json::object& item) {
  std::vector<UploadSlot> out;
  const auto* uploads = attr(item, "uploads");
  const auto* map = uploads ? uploads->if_contains("M") : nullptr;
  if (!map || !map->is_object()) return out;
  for (const auto& [key, value] : map->get_object()) {
    const auto* wrapped = value.if_object();
    const auto* inner = wrapped ? wrapped->if_contains("M") : nullptr;
    if (!inner || !inner->is_object()) continue;
    const auto& m = inner->get_object();
    UploadSlot slot;
    slot.key = key;
    slot.file_name = get_s(m, "fileName").value_or("photo");
    slot.content_type = get_s(m, "contentType").value_or("");
    slot.issued_at = get_n(m, "issuedAt").value_or(0);
    slot.completed = get_bool(m, "completed").value_or(false);
    slot.size = get_n(m, "size");
    slot.completed_at = get_n(m, "completedAt");
    if (auto index = get_n(m, "index")) slot.index = static_cast<int>(*index);
    slot.notified_at = get_n(m, "notifiedAt");
    slot.notifying_until = get_n(m, "notifyingUntil");
    out.push_back(std::move(slot));
  }
  // A map has no order; the order issued is what the sessions' readers expect.
  std::ranges::stable_sort(out, {}, &UploadSlot::issued_at);
  return out;
}

json::object key_of(std::string_view session_id) {
  return {{"sessionId", str(session_id)}};
}

// Maps a failed call; the store's callers only see port-level codes.
Error store_error(DynamoDbError e) {
  if (e.error.code == ErrorCode::condition_failed) e.error.code = ErrorCode::internal;
  return std::move(e.error);
}

}  // namespace

json::object session_to_item(const Session& s) {
  json::object item;
  item["sessionId"] = str(s.session_id);
  item["status"] = str(to_string(s.status));
  item["createdAt"] = num(s.created_at);
  item["expiresAt"] = num(s.expires_at);
  // Never {"NULL": true}: the attribute keys the GSI, and DynamoDB rejects a NULL index key.
  if (s.ws_connection_id) item["wsConnectionId"] = str(*s.ws_connection_id);
  if (s.upload_key) item["uploadKey"] = str(*s.upload_key);
  if (s.completed_at) item["completedAt"] = num(*s.completed_at);
  if (s.content_type) item["contentType"] = str(*s.content_type);
  if (s.desktop_token_hash) item["desktopTokenHash"] = str(*s.desktop_token_hash);
  item["wsTokenBound"] = boolean(s.ws_token_bound);
  if (s.upload_size) item["uploadSize"] = num(*s.upload_size);
  item["maxUploads"] = num(s.max_uploads);
  item["uploadCount"] = num(s.upload_count);
  // Always present (if empty), so a slot can be SET into it by path.
  json::object slots;
  for (const auto& slot : s.uploads) slots[slot.key] = slot_to_attribute(slot);
  item["uploads"] = json::object{{"M", std::move(slots)}};
  if (s.uploader_token_hash) item["uploaderTokenHash"] = str(*s.uploader_token_hash);
  return item;
}

Result<Session> session_from_item(const json::object& item) {
  Session s;
  auto id = get_s(item, "sessionId");
  if (!id) return fail(ErrorCode::internal, "DynamoDB item without sessionId");
  s.session_id = std::move(*id);
  auto status_text = get_s(item, "status");
  auto status = status_text ? parse_session_status(*status_text) : std::nullopt;
  if (!status) return fail(ErrorCode::internal, "DynamoDB item with a bad status: " + s.session_id);
  s.status = *status;
  auto created = get_n(item, "createdAt");
  auto expires = get_n(item, "expiresAt");
  if (!created || !expires) {
    return fail(ErrorCode::internal, "DynamoDB item without createdAt/expiresAt: " + s.session_id);
  }
  s.created_at = *created;
  s.expires_at = *expires;
  s.ws_connection_id = get_s(item, "wsConnectionId");
  s.upload_key = get_s(item, "uploadKey");
  s.completed_at = get_n(item, "completedAt");
  s.content_type = get_s(item, "contentType");
  s.desktop_token_hash = get_s(item, "desktopTokenHash");
  s.ws_token_bound = get_bool(item, "wsTokenBound").value_or(false);
  s.upload_size = get_n(item, "uploadSize");
  s.max_uploads = static_cast<int>(get_n(item, "maxUploads").value_or(1));
  s.upload_count = static_cast<int>(get_n(item, "uploadCount").value_or(0));
  s.uploads = slots_from_item(item);
  s.uploader_token_hash = get_s(item, "uploaderTokenHash");
  return s;
}

json::object sessions_table_definition(std::string_view table_name) {
  return json::object{
      {"TableName", table_name},
      {"AttributeDefinitions",
       json::array{json::object{{"AttributeName", "sessionId"}, {"AttributeType", "S"}},
                   json::object{{"AttributeName", "wsConnectionId"}, {"AttributeType", "S"}}}},
      {"KeySchema", json::array{json::object{{"AttributeName", "sessionId"}, {"KeyType", "HASH"}}}},
      {"BillingMode", "PAY_PER_REQUEST"},
      {"GlobalSecondaryIndexes",
       json::array{json::object{
           {"IndexName", connection_index},
           {"KeySchema",
            json::array{json::object{{"AttributeName", "wsConnectionId"}, {"KeyType", "HASH"}}}},
           {"Projection", json::object{{"ProjectionType", "ALL"}}},
           // dynalite validates provisioned throughput on indexes; AWS ignores it on-demand.
       }}},
  };
}

DynamoDbSessionStore::DynamoDbSessionStore(std::shared_ptr<DynamoDbClient> client,
                                           std::string table_name)
    : client_(std::move(client)), table_(std::move(table_name)) {}

// A short code is an item of its own in the sessions table, keyed "code#483921" (never a UUID, so
// no route can read it as a session), naming the session that holds it until it expires (the
// table's TTL on expiresAt removes it later). It is put first, on the condition that no live
// session holds the code; a session whose put then fails leaves a code that names nothing.
namespace {
std::string short_code_key(std::string_view code) {
  return "code#" + std::string(code);
}
}  // namespace

Result<void> DynamoDbSessionStore::save(const Session& session) {
  const std::string code = short_code_of(session.session_id);
  json::object claim{
      {"TableName", table_},
      {"Item", json::object{{"sessionId", str(short_code_key(code))},
                            {"codeFor", str(session.session_id)},
                            {"expiresAt", num(session.expires_at)}}},
      {"ConditionExpression",
       "attribute_not_exists(sessionId) OR expiresAt <= :created OR codeFor = :id"},
      {"ExpressionAttributeValues",
       json::object{{":created", num(session.created_at)}, {":id", str(session.session_id)}}}};
  if (auto res = client_->call("PutItem", claim); !res) {
    if (res.error().error.code == ErrorCode::condition_failed)
      return fail(ErrorCode::condition_failed,
                  "short code " + code + " taken: " + session.session_id);
    return std::unexpected(store_error(std::move(res.error())));
  }
  json::object req{{"TableName", table_},
                   {"Item", session_to_item(session)},
                   {"ConditionExpression", "attribute_not_exists(sessionId)"}};
  auto res = client_->call("PutItem", req);
  if (!res) {
    if (res.error().error.code == ErrorCode::condition_failed) {
      return fail(ErrorCode::already_exists, "session id taken: " + session.session_id);
    }
    return std::unexpected(store_error(std::move(res.error())));
  }
  return {};
}

Result<std::optional<Session>> DynamoDbSessionStore::get(std::string_view session_id) {
  return get(session_id, Consistency::strong);
}

Result<std::optional<Session>> DynamoDbSessionStore::get(std::string_view session_id,
                                                         Consistency consistency) {
  // Strong unless the caller says a stale answer will do: a read before a conditional write, or
  // right after one, must see it (the status checks and the count depend on it). An eventually
  // consistent read costs half and may lag the last writes (usually by under a second).
  json::object req{{"TableName", table_},
                   {"Key", key_of(session_id)},
                   {"ConsistentRead", consistency == Consistency::strong}};
  auto res = client_->call("GetItem", req);
  if (!res) return std::unexpected(store_error(std::move(res.error())));
  const json::value* item = res->if_contains("Item");
  if (!item || !item->is_object()) return std::optional<Session>{};
  auto s = session_from_item(item->as_object());
  if (!s) return std::unexpected(s.error());
  return std::optional<Session>{std::move(*s)};
}

Result<Session> DynamoDbSessionStore::update(std::string_view session_id,
                                             const SessionUpdate& changes,
                                             const UpdateCondition& condition) {
  json::object names{{"#id", "sessionId"}};
  json::object values;
  std::string set_clause;
  std::string remove_clause;
  auto add_set = [&](std::string_view placeholder, std::string_view attribute, json::object value) {
    names[std::string("#") + std::string(placeholder)] = attribute;
    values[std::string(":") + std::string(placeholder)] = std::move(value);
    set_clause += set_clause.empty() ? "SET " : ", ";
    set_clause += "#" + std::string(placeholder) + " = :" + std::string(placeholder);
  };
  if (changes.status) add_set("st", "status", str(to_string(*changes.status)));
  if (changes.upload_key) add_set("uk", "uploadKey", str(*changes.upload_key));
  if (changes.content_type) add_set("ct", "contentType", str(*changes.content_type));
  if (changes.completed_at) add_set("ca", "completedAt", num(*changes.completed_at));
  if (changes.upload_size) add_set("us", "uploadSize", num(*changes.upload_size));
  if (changes.ws_token_bound) add_set("tb", "wsTokenBound", boolean(*changes.ws_token_bound));
  if (changes.upload_count) add_set("uc", "uploadCount", num(*changes.upload_count));
  if (changes.uploader_token_hash)
    add_set("uth", "uploaderTokenHash", str(*changes.uploader_token_hash));
  if (changes.put_slot) {
    // One slot of the uploads map, by path: the rest of the map is left as it is.
    names["#ups"] = "uploads";
    names["#slot"] = changes.put_slot->key;
    values[":slot"] = slot_to_attribute(*changes.put_slot);
    set_clause += set_clause.empty() ? "SET " : ", ";
    set_clause += "#ups.#slot = :slot";
  }
  if (changes.ws_connection_id) {
    if (*changes.ws_connection_id) {
      add_set("ws", "wsConnectionId", str(**changes.ws_connection_id));
    } else {
      // Clearing is REMOVE, never SET to NULL (the attribute keys the GSI).
      names["#ws"] = "wsConnectionId";
      remove_clause = "REMOVE #ws";
    }
  }

  // attribute_exists(sessionId) keeps UpdateItem from creating a fresh item (its upsert default).
  std::string cond = "attribute_exists(#id)";
  if (!condition.status_in.empty()) {
    names["#st"] = "status";
    cond += " AND #st IN (";
    for (std::size_t i = 0; i < condition.status_in.size(); ++i) {
      const std::string ph = ":cst" + std::to_string(i);
      values[ph] = str(to_string(condition.status_in[i]));
      cond += (i ? ", " : "") + ph;
    }
    cond += ")";
  }
  if (condition.connection_is) {
    names["#ws"] = "wsConnectionId";
    if (*condition.connection_is) {
      values[":cws"] = str(**condition.connection_is);
      cond += " AND #ws = :cws";
    } else {
      cond += " AND attribute_not_exists(#ws)";
    }
  }
  if (condition.upload_key_is) {
    names["#uk"] = "uploadKey";
    values[":cuk"] = str(*condition.upload_key_is);
    cond += " AND #uk = :cuk";
  }
  if (condition.upload_count_is) {
    names["#uc"] = "uploadCount";
    values[":cuc"] = num(*condition.upload_count_is);
    cond += *condition.upload_count_is == 0 ? " AND (attribute_not_exists(#uc) OR #uc = :cuc)"
                                            : " AND #uc = :cuc";
  }
  if (condition.slot_open) {
    names["#ups"] = "uploads";
    names["#cslot"] = *condition.slot_open;
    names["#done"] = "completed";
    values[":cfalse"] = boolean(false);
    cond += " AND attribute_exists(#ups.#cslot) AND #ups.#cslot.#done = :cfalse";
  }
  if (condition.slots_fewer_than) {
    names["#ups"] = "uploads";
    values[":cslots"] = num(static_cast<std::int64_t>(*condition.slots_fewer_than));
    cond += " AND size(#ups) < :cslots";
  }
  if (condition.uploader_token_hash_is) {
    names["#uth"] = "uploaderTokenHash";
    if (*condition.uploader_token_hash_is) {
      values[":cuth"] = str(**condition.uploader_token_hash_is);
      cond += " AND #uth = :cuth";
    } else {
      cond += " AND attribute_not_exists(#uth)";
    }
  }
  if (condition.slot_untold) {
    names["#ups"] = "uploads";
    names["#nslot"] = condition.slot_untold->key;
    names["#done"] = "completed";
    names["#nat"] = "notifiedAt";
    names["#nut"] = "notifyingUntil";
    values[":ctrue"] = boolean(true);
    values[":cnow"] = num(condition.slot_untold->now);
    cond +=
        " AND attribute_exists(#ups.#nslot) AND #ups.#nslot.#done = :ctrue AND "
        "attribute_not_exists(#ups.#nslot.#nat) AND (attribute_not_exists(#ups.#nslot.#nut) OR "
        "#ups.#nslot.#nut < :cnow)";
  }
  if (condition.connection_not_token_bound) {
    names["#tb"] = "wsTokenBound";
    values[":false"] = boolean(false);
    cond += " AND (attribute_not_exists(#tb) OR #tb = :false)";
  }

  json::object req{{"TableName", table_},
                   {"Key", key_of(session_id)},
                   {"ConditionExpression", cond},
                   {"ExpressionAttributeNames", std::move(names)},
                   {"ReturnValues", "ALL_NEW"}};
  std::string update_expr = set_clause;
  if (!remove_clause.empty()) update_expr += (update_expr.empty() ? "" : " ") + remove_clause;
  if (!update_expr.empty()) req["UpdateExpression"] = update_expr;
  if (!values.empty()) req["ExpressionAttributeValues"] = std::move(values);

  auto res = client_->call("UpdateItem", req);
  if (!res) {
    if (res.error().error.code != ErrorCode::condition_failed) {
      return std::unexpected(store_error(std::move(res.error())));
    }
    // One condition covers both "no such session" and "wrong state"; a consistent read tells
    // them apart (sessions are never deleted by the app, so the answer cannot flip back).
    auto current = get(session_id);
    if (!current) return std::unexpected(current.error());
    if (!*current) return fail(ErrorCode::not_found, "no session " + std::string(session_id));
    return fail(ErrorCode::condition_failed,
                "condition failed for session " + std::string(session_id));
  }
  const json::value* attrs = res->if_contains("Attributes");
  if (!attrs || !attrs->is_object()) {
    return fail(ErrorCode::internal, "UpdateItem returned no attributes");
  }
  return session_from_item(attrs->as_object());
}

Result<std::optional<Session>> DynamoDbSessionStore::find_by_short_code(std::string_view code,
                                                                        std::int64_t now) {
  json::object req{
      {"TableName", table_}, {"Key", key_of(short_code_key(code))}, {"ConsistentRead", true}};
  auto res = client_->call("GetItem", req);
  if (!res) return std::unexpected(store_error(std::move(res.error())));
  const json::value* item = res->if_contains("Item");
  if (!item || !item->is_object()) return std::optional<Session>{};
  const auto id = get_s(item->as_object(), "codeFor");
  const auto expires = get_n(item->as_object(), "expiresAt");
  if (!id || !expires || *expires <= now) return std::optional<Session>{};
  auto current = get(*id);
  if (!current) return std::unexpected(current.error());
  // The code's item outlives a session put that failed after it, and TTL deletes lazily.
  if (*current && (*current)->expires_at > now && short_code_of((*current)->session_id) == code)
    return current;
  return std::optional<Session>{};
}

Result<std::optional<Session>> DynamoDbSessionStore::find_by_connection(
    std::string_view connection_id) {
  json::object req{{"TableName", table_},
                   {"IndexName", connection_index},
                   {"KeyConditionExpression", "#ws = :ws"},
                   {"ExpressionAttributeNames", json::object{{"#ws", "wsConnectionId"}}},
                   {"ExpressionAttributeValues", json::object{{":ws", str(connection_id)}}}};
  auto res = client_->call("Query", req);
  if (!res) return std::unexpected(store_error(std::move(res.error())));
  const json::value* items = res->if_contains("Items");
  if (!items || !items->is_array()) return std::optional<Session>{};
  for (const json::value& item : items->as_array()) {
    if (!item.is_object()) continue;
    auto id = get_s(item.as_object(), "sessionId");
    if (!id) continue;
    // A GSI read is never strongly consistent: confirm with a consistent read of the base item
    // that the connection is still this session's.
    auto current = get(*id);
    if (!current) return std::unexpected(current.error());
    if (*current && (*current)->ws_connection_id == connection_id) return current;
  }
  return std::optional<Session>{};
}

}  // namespace qr::aws
