"use strict";
(function () {
  var main = document.getElementById("doc");
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }
  function refName(ref) { return ref.split("/").pop(); }
  function typeOf(s) {
    if (!s) return "";
    if (s.$ref) return refName(s.$ref);
    if (s.oneOf || s.anyOf) return (s.oneOf || s.anyOf).map(typeOf).join(" | ");
    if (s.allOf) return s.allOf.map(typeOf).join(" & ");
    var t = Array.isArray(s.type) ? s.type.join(" | ") : (s.type || "any");
    if (s.type === "array" || (Array.isArray(s.type) && s.type.indexOf("array") >= 0)) {
      t = t.replace("array", typeOf(s.items) + "[]");
    }
    if (s.enum) t += " (" + s.enum.map(function (v) { return JSON.stringify(v); }).join(", ") + ")";
    if (s.format) t += " <" + s.format + ">";
    if (s.additionalProperties && typeof s.additionalProperties === "object") {
      t = "map of " + typeOf(s.additionalProperties);
    }
    return t;
  }
  function schemaTable(s) {
    if (!s || !s.properties) return el("p", {}, [el("code", {}, [typeOf(s)])]);
    var req = s.required || [];
    var rows = Object.keys(s.properties).map(function (name) {
      var p = s.properties[name];
      return el("tr", {}, [
        el("td", {}, [el("code", {}, [name]), req.indexOf(name) >= 0 ? " *" : ""]),
        el("td", {}, [el("code", {}, [typeOf(p)])]),
        el("td", {}, [p.description || ""])
      ]);
    });
    return el("table", {}, [el("tr", {}, [el("th", {}, ["field"]), el("th", {}, ["type"]), el("th", {}, ["description"])])].concat(rows));
  }
  function bodyType(content) {
    return Object.keys(content || {}).map(function (ct) {
      return ct + ": " + typeOf(content[ct].schema);
    }).join("; ");
  }
  function operation(path, method, op) {
    var parts = [];
    if (op.description) parts.push(el("p", {}, [op.description]));
    if (op.parameters && op.parameters.length) {
      parts.push(el("h4", {}, ["Parameters"]));
      parts.push(el("table", {}, op.parameters.map(function (p) {
        return el("tr", {}, [
          el("td", {}, [el("code", {}, [p.name]), p.required ? " *" : ""]),
          el("td", {}, [p.in]),
          el("td", {}, [el("code", {}, [typeOf(p.schema)])]),
          el("td", {}, [p.description || ""])
        ]);
      })));
    }
    if (op.requestBody) {
      parts.push(el("h4", {}, ["Request body"]));
      parts.push(el("p", {}, [el("code", {}, [bodyType(op.requestBody.content)])]));
    }
    parts.push(el("h4", {}, ["Responses"]));
    parts.push(el("table", {}, Object.keys(op.responses || {}).map(function (code) {
      var r = op.responses[code];
      return el("tr", {}, [
        el("td", {}, [el("strong", {}, [code])]),
        el("td", {}, [r.description || ""]),
        el("td", {}, [el("code", {}, [bodyType(r.content)])]),
        el("td", {}, [Object.keys(r.headers || {}).map(function (h) { return "header " + h; }).join(", ")])
      ]);
    })));
    if (op.security && op.security.length === 1 && Object.keys(op.security[0]).length === 0) {
      parts.push(el("p", { "class": "muted" }, ["No token needed."]));
    }
    return el("details", { "class": "op", id: (op.operationId || method + path) }, [
      el("summary", {}, [
        el("span", { "class": "method " + method }, [method]), " ",
        el("code", {}, [path]), " ",
        el("span", { "class": "muted" }, [op.summary || ""])
      ]),
      el("div", {}, parts)
    ]);
  }
  function render(doc) {
    main.textContent = "";
    document.getElementById("intro").textContent = (doc.info && doc.info.description) || "";
    var byTag = {};
    Object.keys(doc.paths || {}).forEach(function (path) {
      var item = doc.paths[path];
      ["get", "post", "put", "patch", "delete"].forEach(function (m) {
        if (!item[m]) return;
        var tag = (item[m].tags || ["other"])[0];
        (byTag[tag] = byTag[tag] || []).push(operation(path, m, item[m]));
      });
    });
    var tags = (doc.tags || []).map(function (t) { return t.name; });
    Object.keys(byTag).forEach(function (t) { if (tags.indexOf(t) < 0) tags.push(t); });
    tags.forEach(function (t) {
      if (!byTag[t]) return;
      var info = (doc.tags || []).filter(function (x) { return x.name === t; })[0];
      main.appendChild(el("h2", {}, [t]));
      if (info && info.description) main.appendChild(el("p", {}, [info.description]));
      byTag[t].forEach(function (n) { main.appendChild(n); });
    });
    var schemas = (doc.components && doc.components.schemas) || {};
    main.appendChild(el("h2", {}, ["Schemas"]));
    Object.keys(schemas).sort().forEach(function (name) {
      var s = schemas[name];
      main.appendChild(el("details", { "class": "op", id: "schema-" + name }, [
        el("summary", {}, [el("code", {}, [name]), " ", el("span", { "class": "muted" }, [s.description || ""])]),
        el("div", {}, [schemaTable(s)])
      ]));
    });
    var sec = (doc.components && doc.components.securitySchemes) || {};
    main.appendChild(el("h2", {}, ["Authentication"]));
    Object.keys(sec).forEach(function (name) {
      var s = sec[name];
      main.appendChild(el("p", {}, [el("code", {}, [name]), ": " + s.type +
        (s.scheme ? " " + s.scheme : "") + (s.in ? " in " + s.in + " `" + s.name + "`" : "") +
        (s.description ? " — " + s.description : "")]));
    });
  }
  fetch("/v0/openapi.json")
    .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
    .then(render)
    .catch(function (e) { main.textContent = "Could not load /v0/openapi.json: " + e.message; });
})();
