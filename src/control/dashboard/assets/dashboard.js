// The dashboard in the browser: polls the page's data route every second and moves the charts
// (uPlot, served by the redfly server). Plain script, no build step; window.redflyDashboard
// exposes the charts' data for tests.
(function () {
  'use strict';
  var body = document.body;
  var kind = body.dataset.kind;
  var source = body.dataset.source;
  var POINTS = 180; // three minutes at one sample a second
  var main = document.getElementById('main');
  var state = {charts: {}, series: {}, prev: null, built: false, samples: 0};
  window.redflyDashboard = state;

  function h(tag, attrs) {
    var e = document.createElement(tag);
    for (var k in attrs || {}) {
      if (k === 'text') e.textContent = attrs[k];
      else if (k === 'html') e.innerHTML = attrs[k];
      else e.setAttribute(k, attrs[k]);
    }
    for (var i = 2; i < arguments.length; i++) if (arguments[i]) e.appendChild(arguments[i]);
    return e;
  }
  function bytes(n) {
    if (n === null || n === undefined) return '–';
    var u = ['B', 'KB', 'MB', 'GB', 'TB'], i = 0;
    while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
    return (Number.isInteger(n) ? n : n.toFixed(n < 10 ? 1 : 0)) + ' ' + u[i];
  }
  function num(n) { return n === null || n === undefined ? '–' : Math.round(n).toLocaleString('en-US'); }
  function rate(n) { return n === null ? '–' : n < 10 ? n.toFixed(1) : num(n); }

  // ---- charts
  var INT_INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 1e7, 1e8, 1e9, 1e10];
  function chart(id, title, names, fmt, integer) {
    var el = h('div', {class: 'chart', id: 'chart-' + id, 'data-testid': 'chart-' + id}, h('h3', {text: title}));
    var data = [[]];
    var series = [{}];
    names.forEach(function (n, i) {
      data.push([]);
      series.push({label: n, stroke: ['#d6336c', '#1c7ed6', '#2f9e44', '#f08c00', '#7048e8', '#0c8599'][i % 6], width: 2,
        value: function (u, v) { return v === null ? '–' : fmt(v); }});
    });
    state.series[id] = data;
    return {el: el, make: function () {
      var width = Math.max(280, el.clientWidth - 8);
      var y = {values: function (u, vals) { return vals.map(fmt); }, size: 70};
      if (integer) y.incrs = INT_INCRS;
      state.charts[id] = new uPlot({width: width, height: 170, series: series, legend: {show: true, live: false},
        axes: [{}, y], scales: {x: {time: true, range: function (u, min, max) { return [Math.min(min, max - 60), max]; }}, y: {range: function (u, min, max) { return [0, Math.max(integer ? 4 : 1, max * 1.15)]; }}}}, data, el);
    }};
  }
  function push(id, t, values) {
    var data = state.series[id];
    if (!data) return;
    data[0].push(t);
    for (var i = 0; i < values.length; i++) data[i + 1].push(values[i]);
    if (data[0].length > POINTS) data.forEach(function (s) { s.shift(); });
    if (state.charts[id]) state.charts[id].setData(data);
  }

  // ---- a figure against its limit
  function tile(id, label) {
    return h('div', {class: 'tile', 'data-testid': id},
      h('div', {class: 'label', text: label}),
      h('div', {class: 'value', 'data-role': 'value', text: '–'}),
      h('div', {class: 'bar'}, h('div', {class: 'fill', 'data-role': 'fill'})),
      h('div', {class: 'limit muted', 'data-role': 'limit'}));
  }
  function setTile(id, used, limit, fmt) {
    var t = document.querySelector('[data-testid="' + id + '"]');
    if (!t) return;
    t.dataset.value = used === null ? '' : String(used);
    t.dataset.limit = limit === null || limit === undefined ? '' : String(limit);
    t.querySelector('[data-role=value]').textContent = fmt(used);
    var pct = limit ? Math.min(100, (used / limit) * 100) : 0;
    var fill = t.querySelector('[data-role=fill]');
    fill.style.width = pct + '%';
    fill.className = 'fill' + (pct >= 90 ? ' hot' : pct >= 70 ? ' warm' : '');
    t.querySelector('[data-role=limit]').textContent = limit === null || limit === undefined ? (fmt === rate ? 'per second' : 'no limit') : 'of ' + fmt(limit) + ' (' + pct.toFixed(pct < 10 ? 1 : 0) + '%)';
  }

  // ---- one database
  function buildDatabase(d) {
    var lagRegions = d.database.readRegions.slice();
    main.textContent = '';
    var tiles = h('section', {class: 'tiles'}, tile('ops', 'Ops/s'), tile('connections', 'Connections'), tile('memory', 'Memory'),
      tile('commands', 'Commands today'), tile('bandwidth', 'Bandwidth today'));
    var charts = [chart('ops', 'Ops per second', ['ops/s'], rate), chart('connections', 'Connections', ['connections'], num, true),
      chart('memory', 'Memory used' + (d.plan ? ' (plan: ' + bytes(d.plan.maxDataSizeBytes) + ')' : ''), ['used'], bytes)];
    if (lagRegions.length) charts.push(chart('lag', 'Replication lag (ms)', lagRegions, num, true));
    var grid = h('section', {class: 'charts'});
    charts.forEach(function (c) { grid.appendChild(c.el); });
    main.appendChild(h('p', {id: 'summary', class: 'muted'}));
    main.appendChild(tiles);
    main.appendChild(grid);
    main.appendChild(h('section', {class: 'two'},
      h('div', null, h('h2', {text: 'Processes'}), h('table', {id: 'processes', 'data-testid': 'processes'})),
      h('div', null, h('h2', {text: 'Recent process events'}), h('ul', {id: 'events', 'data-testid': 'events'}))));
    charts.forEach(function (c) { c.make(); });
    state.lagRegions = lagRegions;
  }

  function renderDatabase(d) {
    var db = d.database, s = d.stats, plan = d.plan;
    if (!state.built || state.lagRegions.join() !== db.readRegions.join()) { buildDatabase(d); state.built = true; state.prev = null; }
    setStatus(db.status, db.statusMessage);
    document.getElementById('summary').textContent = (plan ? plan.displayName + ' plan' : db.plan) + ' · primary ' + db.primaryRegion +
      (db.readRegions.length ? ' · replicas ' + db.readRegions.join(', ') : ' · no replicas') + ' · eviction ' + (db.eviction ? 'on' : 'off');
    var t = Date.parse(d.at) / 1000;
    var ops = null;
    if (s) {
      if (state.prev && t > state.prev.t && s.commandsToday.used >= state.prev.commands) ops = (s.commandsToday.used - state.prev.commands) / (t - state.prev.t);
      state.prev = {t: t, commands: s.commandsToday.used};
      setTile('ops', ops === null ? 0 : ops, plan ? plan.maxCommandsPerSecond : null, rate);
      setTile('connections', s.connections.used, s.connections.limit, num);
      setTile('memory', s.dataSizeBytes.used, s.dataSizeBytes.limit, bytes);
      setTile('commands', s.commandsToday.used, s.commandsToday.limit, num);
      setTile('bandwidth', s.bandwidthTodayBytes.used, s.bandwidthTodayBytes.limit, bytes);
      push('ops', t, [ops === null ? 0 : ops]);
      push('connections', t, [s.connections.used]);
      push('memory', t, [s.dataSizeBytes.used]);
      push('lag', t, state.lagRegions.map(function (r) { var v = s.replicationLagMs[r]; return v === undefined ? null : v; }));
    }
    var lag = s ? s.replicationLagMs : {};
    var rows = [h('tr', null, h('th', {text: 'Region'}), h('th', {text: 'Role'}), h('th', {text: 'State'}), h('th', {text: 'Restarts'}), h('th', {text: 'Replication lag'}))];
    db.processes.forEach(function (p) {
      var l = p.role === 'primary' ? '–' : lag[p.region] === null || lag[p.region] === undefined ? 'unknown' : num(lag[p.region]) + ' ms';
      rows.push(h('tr', {'data-region': p.region}, h('td', {text: p.region}), h('td', {text: p.role}),
        h('td', {class: 'state-' + p.state, text: p.state}), h('td', {text: String(p.restarts)}), h('td', {text: l})));
    });
    replace(document.getElementById('processes'), rows);
    var events = d.events.length ? d.events.map(function (e) {
      return h('li', null, h('time', {text: e.at.replace('T', ' ').slice(0, 19)}), h('span', {text: ' ' + e.region + ' ' + e.role + ' → ' + e.state + ': ' + e.message}));
    }) : [h('li', {class: 'muted', text: 'No process events since the server started.'})];
    replace(document.getElementById('events'), events);
  }

  // ---- an organization
  function renderOrg(d) {
    var t = Date.parse(d.at) / 1000;
    if (!state.built) {
      main.textContent = '';
      var c1 = chart('ops', 'Ops per second (all databases)', ['ops/s'], rate);
      var c2 = chart('connections', 'Connections (all databases)', ['connections'], num, true);
      main.appendChild(h('section', {class: 'charts'}, c1.el, c2.el));
      main.appendChild(h('h2', {text: 'Databases'}));
      main.appendChild(h('table', {id: 'databases', 'data-testid': 'databases'}));
      c1.make(); c2.make();
      state.built = true;
      state.prevByDb = {};
    }
    setStatus(d.databases.length + ' database' + (d.databases.length === 1 ? '' : 's'), null);
    var total = 0, conns = 0;
    var rows = [h('tr', null, h('th', {text: 'Name'}), h('th', {text: 'Status'}), h('th', {text: 'Plan'}), h('th', {text: 'Regions'}),
      h('th', {text: 'Ops/s'}), h('th', {text: 'Connections'}), h('th', {text: 'Memory'}), h('th', {text: 'Commands today'}), h('th', {text: 'Bandwidth today'}))];
    d.databases.forEach(function (db) {
      var s = db.stats, ops = null;
      if (s) {
        var p = state.prevByDb[db.name];
        if (p && t > p.t && s.commandsToday.used >= p.commands) ops = (s.commandsToday.used - p.commands) / (t - p.t);
        state.prevByDb[db.name] = {t: t, commands: s.commandsToday.used};
        total += ops || 0;
        conns += s.connections.used;
      }
      var of = function (f, fmt) { return s ? fmt(f.used) + (f.limit === null ? '' : ' / ' + fmt(f.limit)) : '–'; };
      rows.push(h('tr', {'data-name': db.name},
        h('td', null, h('a', {href: '/dashboard/databases/' + encodeURIComponent(db.name), text: db.name})),
        h('td', {class: 'status-' + db.status, text: db.status}), h('td', {text: db.plan}),
        h('td', {text: [db.primaryRegion].concat(db.readRegions).join(', ')}), h('td', {text: s ? rate(ops || 0) : '–'}),
        h('td', {text: s ? of(s.connections, num) : '–'}), h('td', {text: s ? of(s.dataSizeBytes, bytes) : '–'}),
        h('td', {text: s ? of(s.commandsToday, num) : '–'}), h('td', {text: s ? of(s.bandwidthTodayBytes, bytes) : '–'})));
    });
    replace(document.getElementById('databases'), rows);
    push('ops', t, [total]);
    push('connections', t, [conns]);
  }

  function setStatus(text, message) {
    var b = document.getElementById('status');
    b.textContent = text;
    b.className = 'badge status-' + text;
    b.title = message || '';
    document.getElementById('updated').textContent = message ? message : '';
  }
  function replace(parent, children) {
    parent.textContent = '';
    children.forEach(function (c) { parent.appendChild(c); });
  }

  var busy = false;
  function poll() {
    if (busy) return;
    busy = true;
    fetch(source, {credentials: 'same-origin', cache: 'no-store'})
      .then(function (r) {
        if (r.status === 401) throw new Error('Your dashboard session ended: run `redfly redis dashboard` again.');
        return r.json().then(function (j) { if (!r.ok) throw new Error(j.error ? j.error.message : 'HTTP ' + r.status); return j; });
      })
      .then(function (d) {
        if (kind === 'database') renderDatabase(d); else renderOrg(d);
        state.samples++;
        body.dataset.samples = String(state.samples);
      })
      .catch(function (err) { setStatus('error', err.message); body.dataset.error = err.message; })
      .then(function () { busy = false; });
  }
  poll();
  setInterval(poll, 1000);
})();
