/* cab report: the little JavaScript the site needs (embedded in cab,
 * written to SITE/assets/).  Sortable tables, the leaderboard's filters, the
 * trace waterfall's step control and the terminal player.  Text from cells
 * only ever reaches the page through textContent and text nodes. */
(function () {
  'use strict';

  function $(id) { return document.getElementById(id); }
  function each(list, fn) { Array.prototype.forEach.call(list, fn); }
  function params() {
    try { return new URLSearchParams(window.location.search); } catch (e) { return new URLSearchParams(''); }
  }

  /* ---- sortable tables: <th data-type="num|str"><button>, <td data-v> ---- */

  function cellValue(row, col, type) {
    var td = row.cells[col];
    if (!td) return null;
    var v = td.getAttribute('data-v');
    if (v === null) v = td.textContent;
    if (type === 'num') {
      if (v === '') return null;
      var x = parseFloat(v);
      return isNaN(x) ? null : x;
    }
    return v.toLowerCase();
  }

  function initSortable(table) {
    if (!table.tHead || !table.tBodies.length) return;
    var ths = table.tHead.rows[0].cells;
    each(ths, function (th, col) {
      var button = th.querySelector('button');
      if (!button) return;
      button.addEventListener('click', function () {
        var type = th.getAttribute('data-type') || 'str';
        var now = th.getAttribute('aria-sort');
        var dir = now === 'descending' ? 'ascending'
          : now === 'ascending' ? 'descending'
            : type === 'num' ? 'descending' : 'ascending';
        each(ths, function (other) { other.removeAttribute('aria-sort'); });
        th.setAttribute('aria-sort', dir);
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        var keyed = rows.map(function (row, i) { return { row: row, i: i, v: cellValue(row, col, type) }; });
        keyed.sort(function (a, b) {
          if (a.v === null || b.v === null) {
            if (a.v === b.v) return a.i - b.i;
            return a.v === null ? 1 : -1; /* blanks last, either way */
          }
          var c = a.v < b.v ? -1 : a.v > b.v ? 1 : 0;
          return (dir === 'descending' ? -c : c) || a.i - b.i;
        });
        keyed.forEach(function (k) { body.appendChild(k.row); });
      });
    });
  }

  /* ---- leaderboard filters: rows carry data-family / data-language ---- */

  function initFilters() {
    var family = $('filter-family'), language = $('filter-language'), board = $('board');
    if (!family || !language || !board) return;
    function apply() {
      var shown = 0;
      each(board.tBodies[0].rows, function (row) {
        var show = row.getAttribute('data-family') === family.value &&
          row.getAttribute('data-language') === language.value;
        row.hidden = !show;
        if (show) shown++;
      });
      var empty = $('board-empty');
      if (empty) empty.hidden = shown > 0;
    }
    var q = params();
    if (q.has('family')) family.value = q.get('family');
    if (q.has('language')) language.value = q.get('language');
    family.addEventListener('change', apply);
    language.addEventListener('change', apply);
    apply();
  }

  /* ---- trace waterfall: one span highlighted at a time ---- */

  function fmtMs(ms) {
    return ms < 1000 ? Math.round(ms) + ' ms' : (ms / 1000).toFixed(2) + ' s';
  }

  function initWaterfall() {
    var wf = $('waterfall');
    if (!wf) return;
    var rows = Array.prototype.slice.call(wf.querySelectorAll('.wf-row'));
    if (!rows.length) return;
    var total = parseFloat(wf.getAttribute('data-total')) || 0;
    var cursor = $('wf-cursor'), time = $('wf-time'), play = $('wf-play');
    var X0 = 330, X1 = 930;
    var cur = 0, t = 0, timer = null;
    function start(k) { return parseFloat(rows[k].getAttribute('data-start')) || 0; }
    function end(k) { return parseFloat(rows[k].getAttribute('data-end')) || 0; }
    function setTime(ms) {
      t = Math.max(0, Math.min(total, ms));
      var x = X0 + (total > 0 ? (X1 - X0) * t / total : 0);
      cursor.setAttribute('x1', x.toFixed(1));
      cursor.setAttribute('x2', x.toFixed(1));
      time.textContent = 't = ' + fmtMs(t) + ' / ' + fmtMs(total);
    }
    function select(i, moveTime) {
      cur = Math.max(0, Math.min(rows.length - 1, i));
      rows.forEach(function (row, k) {
        row.classList.toggle('current', k === cur);
        var detail = $('span-detail-' + k);
        if (detail) detail.hidden = k !== cur;
      });
      if (moveTime) setTime(start(cur));
    }
    function spanAt(ms) { /* the latest-starting span covering MS */
      var best = 0;
      for (var k = 0; k < rows.length; k++)
        if (start(k) <= ms && (ms <= end(k) || k === 0)) best = k;
      return best;
    }
    function stop() {
      if (timer) clearInterval(timer);
      timer = null;
      play.textContent = '▶ play';
    }
    function toggle() {
      if (timer) { stop(); return; }
      if (cur >= rows.length - 1) select(0, true);
      play.textContent = '❚❚ pause';
      timer = setInterval(function () {
        if (cur >= rows.length - 1) { stop(); return; }
        select(cur + 1, true);
      }, 700);
    }
    $('wf-prev').addEventListener('click', function () { stop(); select(cur - 1, true); });
    $('wf-next').addEventListener('click', function () { stop(); select(cur + 1, true); });
    play.addEventListener('click', toggle);
    rows.forEach(function (row, k) {
      row.addEventListener('click', function () { stop(); select(k, true); });
    });
    document.addEventListener('keydown', function (e) {
      var tag = e.target && e.target.tagName ? e.target.tagName : '';
      if (/^(INPUT|SELECT|TEXTAREA|BUTTON)$/.test(tag) || e.altKey || e.ctrlKey || e.metaKey) return;
      if (e.target && e.target.id === 'term') return;
      if (e.key === ' ') { toggle(); e.preventDefault(); }
      else if (e.key === 'ArrowLeft') { stop(); select(cur - 1, true); }
      else if (e.key === 'ArrowRight') { stop(); select(cur + 1, true); }
      else if (e.key === ',' || e.key === '.') {
        stop();
        setTime(t + (e.key === ',' ? -100 : 100));
        select(spanAt(t), false);
      }
    });
    select(0, true);
  }

  /* ---- terminal player: asciicast output, minimal ANSI ---- */

  /* The nearest of the 16 colours for a 256-colour index or an RGB triple. */
  function rgb16(r, g, b) {
    var idx = (r > 127 ? 1 : 0) | (g > 127 ? 2 : 0) | (b > 127 ? 4 : 0);
    return Math.max(r, g, b) > 200 ? idx + 8 : idx;
  }
  function c256(n) {
    if (n < 16) return n;
    if (n >= 232) { var v = 8 + (n - 232) * 10; return v < 80 ? 0 : v < 160 ? 8 : v < 220 ? 7 : 15; }
    n -= 16;
    var level = [0, 95, 135, 175, 215, 255];
    return rgb16(level[Math.floor(n / 36)], level[Math.floor(n / 6) % 6], level[n % 6]);
  }

  function Screen(width, height) {
    this.w = width; this.h = height;
    this.lines = [[]]; this.row = 0; this.col = 0;
    this.fg = -1; this.bg = -1; this.attrs = '';
    this.cls = ''; this.state = 0; this.seq = '';
  }
  Screen.prototype.MAX_LINES = 5000;
  Screen.prototype.top = function () { return Math.max(0, this.lines.length - this.h); };
  Screen.prototype.ensureRow = function () {
    while (this.lines.length <= this.row) this.lines.push([]);
    if (this.lines.length > this.MAX_LINES) {
      var drop = this.lines.length - this.MAX_LINES;
      this.lines.splice(0, drop);
      this.row -= drop;
    }
  };
  Screen.prototype.newline = function () { this.row++; this.col = 0; this.ensureRow(); };
  Screen.prototype.put = function (ch) {
    if (this.col >= this.w) this.newline();
    var line = this.lines[this.row];
    while (line.length < this.col) line.push({ c: ' ', k: '' });
    line[this.col] = { c: ch, k: this.cls };
    this.col++;
  };
  Screen.prototype.updateClass = function () {
    var k = [];
    if (this.fg >= 0) k.push('f' + this.fg);
    if (this.bg >= 0) k.push('b' + this.bg);
    if (this.attrs) k.push(this.attrs.split('').join(' '));
    this.cls = k.join(' ');
  };
  Screen.prototype.sgr = function (p) {
    var a = p === '' ? [0] : p.split(';').map(function (x) { return x === '' ? 0 : parseInt(x, 10) || 0; });
    for (var i = 0; i < a.length; i++) {
      var n = a[i];
      var flag = { 1: 'B', 2: 'D', 3: 'I', 4: 'U', 7: 'R' }[n];
      if (n === 0) { this.fg = -1; this.bg = -1; this.attrs = ''; }
      else if (flag) { if (this.attrs.indexOf(flag) < 0) this.attrs += flag; }
      else if (n === 22) this.attrs = this.attrs.replace(/[BD]/g, '');
      else if (n === 23) this.attrs = this.attrs.replace('I', '');
      else if (n === 24) this.attrs = this.attrs.replace('U', '');
      else if (n === 27) this.attrs = this.attrs.replace('R', '');
      else if (n >= 30 && n <= 37) this.fg = n - 30;
      else if (n >= 90 && n <= 97) this.fg = n - 90 + 8;
      else if (n === 39) this.fg = -1;
      else if (n >= 40 && n <= 47) this.bg = n - 40;
      else if (n >= 100 && n <= 107) this.bg = n - 100 + 8;
      else if (n === 49) this.bg = -1;
      else if (n === 38 || n === 48) {
        var c = -1;
        if (a[i + 1] === 5) { c = c256(a[i + 2] || 0); i += 2; }
        else if (a[i + 1] === 2) { c = rgb16(a[i + 2] || 0, a[i + 3] || 0, a[i + 4] || 0); i += 4; }
        if (n === 38) this.fg = c; else this.bg = c;
      }
    }
    this.updateClass();
  };
  Screen.prototype.csi = function (seq) {
    var final = seq.charAt(seq.length - 1), p = seq.slice(0, -1);
    if (p.charAt(0) === '?' || p.charAt(0) === '>' || p.charAt(0) === '=') return; /* modes: ignored */
    var args = p.split(';'), n = parseInt(args[0], 10), line = this.lines[this.row];
    var count = isNaN(n) || n < 1 ? 1 : n;
    switch (final) {
      case 'm': this.sgr(p); break;
      case 'K':
        if (isNaN(n) || n === 0) line.length = Math.min(line.length, this.col);
        else if (n === 1) for (var i = 0; i <= this.col && i < line.length; i++) line[i] = { c: ' ', k: '' };
        else this.lines[this.row] = [];
        break;
      case 'J':
        if (n === 2 || n === 3) {
          this.lines.length = this.top();
          this.lines.push([]);
          this.row = this.lines.length - 1; this.col = 0;
        } else if (isNaN(n) || n === 0) {
          line.length = Math.min(line.length, this.col);
          this.lines.length = this.row + 1;
        }
        break;
      case 'A': this.row = Math.max(this.top(), this.row - count); break;
      case 'B': this.row += count; this.ensureRow(); break;
      case 'C': this.col = Math.min(this.w - 1, this.col + count); break;
      case 'D': this.col = Math.max(0, this.col - count); break;
      case 'G': this.col = Math.min(this.w - 1, count - 1); break;
      case 'd': this.row = this.top() + count - 1; this.ensureRow(); break;
      case 'H': case 'f':
        var r = parseInt(args[0], 10) || 1, c = parseInt(args[1], 10) || 1;
        this.row = this.top() + r - 1; this.col = Math.min(this.w - 1, c - 1); this.ensureRow();
        break;
      default: break; /* anything else is dropped */
    }
  };
  /* state: 0 text, 1 after ESC, 2 CSI, 3 OSC/DCS (to BEL or ESC \), 4 one more byte */
  Screen.prototype.write = function (s) {
    for (var i = 0; i < s.length; i++) {
      var ch = s.charAt(i), code = s.charCodeAt(i);
      switch (this.state) {
        case 0:
          if (code === 27) this.state = 1;
          else if (ch === '\r') this.col = 0;
          else if (ch === '\n') this.newline();
          else if (ch === '\b') this.col = Math.max(0, this.col - 1);
          else if (ch === '\t') this.col = Math.min(this.w - 1, (Math.floor(this.col / 8) + 1) * 8);
          else if (code >= 32 && code !== 127) this.put(ch);
          break;
        case 1:
          if (ch === '[') { this.state = 2; this.seq = ''; }
          else if (ch === ']' || ch === 'P' || ch === '_' || ch === '^') this.state = 3;
          else if (ch === '(' || ch === ')' || ch === '#') this.state = 4;
          else this.state = 0;
          break;
        case 2:
          this.seq += ch;
          if (code >= 0x40 && code <= 0x7e) { this.state = 0; this.csi(this.seq); }
          else if (this.seq.length > 64) this.state = 0;
          break;
        case 3:
          if (code === 7) this.state = 0;
          else if (code === 27) this.state = 1; /* ESC \ ends it; the '\' is then dropped */
          break;
        default:
          this.state = 0;
      }
    }
  };
  Screen.prototype.render = function (pre) {
    var frag = document.createDocumentFragment();
    var from = Math.max(0, this.lines.length - 2000);
    for (var r = from; r < this.lines.length; r++) {
      var line = this.lines[r], run = '', k = null;
      for (var i = 0; i <= line.length; i++) {
        var cell = i < line.length ? line[i] : null;
        if (cell === null || cell.k !== k) {
          if (run) {
            if (k) {
              var span = document.createElement('span');
              span.className = k;
              span.textContent = run;
              frag.appendChild(span);
            } else {
              frag.appendChild(document.createTextNode(run));
            }
          }
          run = '';
          k = cell ? cell.k : null;
        }
        if (cell) run += cell.c;
      }
      if (r < this.lines.length - 1) frag.appendChild(document.createTextNode('\n'));
    }
    pre.textContent = '';
    pre.appendChild(frag);
    pre.scrollTop = pre.scrollHeight;
  };

  function initPlayer() {
    var data = $('cast-data'), pre = $('term');
    if (!data || !pre) return;
    var cast;
    try { cast = JSON.parse(data.textContent); } catch (e) { pre.textContent = 'terminal.cast could not be read'; return; }
    var events = cast.events || [];
    /* pauses longer than 2 s are cut to 2 s, as asciinema's idle_time_limit */
    var at = [], prev = 0, acc = 0;
    events.forEach(function (ev) {
      acc += Math.min(Math.max(ev[0] - prev, 0), 2);
      prev = ev[0];
      at.push(acc * 1000);
    });
    var duration = at.length ? at[at.length - 1] : 0;
    var play = $('term-play'), seek = $('term-seek'), time = $('term-time'), speed = $('term-speed');
    var screen = null, next = 0, pos = 0, timer = null, last = 0;
    seek.max = String(Math.ceil(duration));
    function show() {
      time.textContent = (pos / 1000).toFixed(1) + ' s / ' + (duration / 1000).toFixed(1) + ' s';
      seek.value = String(Math.round(pos));
    }
    function seekTo(ms) {
      if (!screen || ms < pos) { screen = new Screen(cast.width || 80, cast.height || 24); next = 0; }
      pos = Math.max(0, Math.min(duration, ms));
      var dirty = next === 0;
      while (next < events.length && at[next] <= pos) { screen.write(events[next][1]); next++; dirty = true; }
      if (dirty) screen.render(pre);
      show();
    }
    function stop() {
      if (timer) clearInterval(timer);
      timer = null;
      play.textContent = '▶ play';
    }
    function start() {
      if (pos >= duration) seekTo(0);
      last = Date.now();
      play.textContent = '❚❚ pause';
      timer = setInterval(function () {
        var now = Date.now();
        seekTo(pos + (now - last) * (parseFloat(speed.value) || 1));
        last = now;
        if (pos >= duration) stop();
      }, 40);
    }
    play.addEventListener('click', function () { if (timer) stop(); else start(); });
    seek.addEventListener('input', function () { seekTo(parseFloat(seek.value) || 0); });
    screen = new Screen(cast.width || 80, cast.height || 24);
    show();
    var q = params();
    if (q.has('speed')) speed.value = q.get('speed');
    if (q.has('autoplay')) start();
  }

  function init() {
    each(document.querySelectorAll('table.sortable'), initSortable);
    initFilters();
    initWaterfall();
    initPlayer();
  }
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
