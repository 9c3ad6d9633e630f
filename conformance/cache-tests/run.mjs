// Runs the HTTP cache test suite's browser set through asynchttp's cache, and grades it with
// the suite's own functions. Started by run.sh, which prepares the suite and the proxy:
//
//   node run.mjs --suite DIR --proxy BIN --work DIR [--store files|redis] [--floor N] [--id TEST-ID]
//
// 1. The suite's own server, on 127.0.0.1 and a free port.
// 2. The cache_proxy example in front of it: one shared Http with a cache, in files under
//    the work folder, or (--store redis) in the Redis that REDIS_URL names, serving a
//    stale stored response when the server fails (--stale-if-error), as a browser does.
// 3. The suite's client (runTests, browser rules, as test-browser.html runs it) against the
//    proxy, then determineTestResult with dependencies, as cache-tests.fyi shows results.
// 4. passed / graded, each failure with the suite's message, and the browsers' published
//    results graded the same way. Exits 1 below the floor.

import { spawn } from 'node:child_process'
import { once } from 'node:events'
import fs from 'node:fs'
import http from 'node:http'
import path from 'node:path'
import readline from 'node:readline'
import { pathToFileURL } from 'node:url'

const args = options(process.argv.slice(2))
const suite = path.resolve(args.suite)
const work = path.resolve(args.work)
const fromSuite = file => import(pathToFileURL(path.join(suite, file)).href)

// Nothing here may hang CI: the whole run has a bound (the suite itself aborts each
// request after 10 s).
const limit = setTimeout(() => {
  console.error('cache-tests: the run took over 20 minutes; stopping')
  process.exit(3)
}, 20 * 60 * 1000)
limit.unref()

const origin = await startSuiteServer()
const proxy = await startProxy(origin)
let status = 1
try {
  status = await runAndGrade(proxy.base)
} finally {
  proxy.child.kill()
}
process.exit(status)

// The suite's server listens on every interface and reads its port from npm's config
// variables; here it gets a free port on 127.0.0.1 alone.
async function startSuiteServer () {
  const listen = http.Server.prototype.listen
  let server
  http.Server.prototype.listen = function (port, ...rest) {
    server = this
    return listen.call(this, port, '127.0.0.1', ...rest)
  }
  process.env.npm_config_protocol = 'http'
  process.env.npm_config_port = '0'
  process.env.npm_config_pidfile = path.join(work, 'server.pid')
  const log = console.log
  console.log = () => {} // its "Listening on" line names the wildcard address
  try {
    await fromSuite('test-engine/server/server.mjs')
  } finally {
    http.Server.prototype.listen = listen
    console.log = log
  }
  return `http://127.0.0.1:${server.address().port}`
}

async function startProxy (upstream) {
  const cache = path.join(work, 'cache')
  fs.rmSync(cache, { recursive: true, force: true })
  const store = args.store === 'redis' ? ['--redis', redisUrl()] : ['--cache', cache]
  // As a browser has it: a stale stored response when the server cannot be reached or
  // fails (the suite's stale-close check), a day past its freshness at most.
  const stale = ['--stale-if-error', '86400']
  const child = spawn(args.proxy, ['--upstream', upstream, ...store, ...stale], {
    stdio: ['ignore', 'pipe', 'inherit']
  })
  const lines = readline.createInterface({ input: child.stdout })
  const first = await Promise.race([
    once(lines, 'line').then(([line]) => line),
    once(child, 'exit').then(([code]) => { throw new Error(`cache_proxy exited (${code}) before listening`) }),
    new Promise((resolve, reject) => setTimeout(() => reject(new Error('cache_proxy did not start in 60 s')), 60000).unref())
  ])
  const base = first.replace(/^listening on /, '')
  if (!base.startsWith('http://')) throw new Error(`cache_proxy said "${first}"`)
  return { child, base }
}

function redisUrl () {
  if (!process.env.REDIS_URL) throw new Error('--store redis needs REDIS_URL (conformance/redis/run.sh sets it)')
  return process.env.REDIS_URL
}

async function runAndGrade (base) {
  const { runTests, getResults } = await fromSuite('test-engine/client/runner.mjs')
  const { determineTestResult, resultTypes } = await fromSuite('test-engine/lib/results.mjs')
  const tests = (await fromSuite('tests/index.mjs')).default
  const browsers = (await fromSuite('results/index.mjs')).default.filter(b => b.type === 'browser')

  let toRun = tests
  if (args.id) {
    toRun = tests.map(s => ({ ...s, tests: s.tests.filter(t => t.id === args.id) }))
      .filter(s => s.tests.length)
    if (!toRun.length) throw new Error(`no test ${args.id}`)
    toRun[0].tests[0].dump = true
  }
  const started = Date.now()
  await runTests(toRun, true, base)
  const seconds = ((Date.now() - started) / 1000).toFixed(0)
  const ours = getResults()
  fs.writeFileSync(path.join(work, 'results.json'), JSON.stringify(ours, null, 2))

  // The browser set: what runTests runs with browser rules. Graded: required and optimal
  // tests; "check" tests only report what a cache does.
  const browserSet = toRun.flatMap(s => s.tests)
    .filter(t => t.cdn_only !== true && t.browser_skip !== true)
  const graded = browserSet.filter(t => t.kind !== 'check')
  const grade = results => {
    const outcome = { passed: 0, required: 0, optimal: 0, failures: [] }
    for (const test of graded) {
      const result = determineTestResult(tests, test.id, results, true)
      if (result === resultTypes.pass) {
        outcome.passed++
        outcome[test.kind === 'optimal' ? 'optimal' : 'required']++
      } else {
        const name = Object.keys(resultTypes).find(k => resultTypes[k] === result)
        const detail = Array.isArray(results[test.id]) ? results[test.id][1] : ''
        outcome.failures.push({ test, name, detail })
      }
    }
    return outcome
  }

  const us = grade(ours)
  const required = graded.filter(t => t.kind !== 'optimal').length
  const optimal = graded.length - required
  const store = args.store === 'redis' ? 'entries in Redis' : 'entries in files'
  console.log(`cache-tests: the browser set (${browserSet.length} tests) through ${base} (${store}), in ${seconds} s`)
  if (us.failures.length) {
    console.log('\nNot passed (kind, result, test: the suite\'s message):')
    for (const { test, name, detail } of us.failures) {
      console.log(`  ${(test.kind || 'required').padEnd(8)} ${name.padEnd(15)} ${test.id}${detail ? `: ${detail}` : ''}`)
    }
  }
  const pct = n => `${(100 * n / graded.length).toFixed(1)}%`
  const row = (name, o) => `  ${name.padEnd(10)} ${String(o.passed).padStart(3)} / ${graded.length}  ${pct(o.passed).padStart(6)}   required ${o.required}/${required}, optimal ${o.optimal}/${optimal}`
  console.log(`\nGraded tests passed (determineTestResult, with dependencies):`)
  console.log(row('asynchttp', us))
  if (!args.id) {
    for (const browser of browsers) {
      const published = JSON.parse(fs.readFileSync(path.join(suite, 'results', browser.file), 'utf8'))
      console.log(row(browser.name, grade(published)) + `   (published, ${browser.version})`)
    }
  }
  const floor = Number(args.floor || 0)
  if (us.passed < floor) {
    console.log(`\ncache-tests: ${us.passed} graded tests pass, below the floor of ${floor}`)
    return 1
  }
  return 0
}

function options (argv) {
  const out = {}
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '')
    if (!['suite', 'proxy', 'work', 'store', 'floor', 'id'].includes(name) || argv[i + 1] === undefined) {
      console.error(`usage: node run.mjs --suite DIR --proxy BIN --work DIR [--store files|redis] [--floor N] [--id TEST-ID]`)
      process.exit(2)
    }
    out[name] = argv[i + 1]
  }
  for (const needed of ['suite', 'proxy', 'work']) {
    if (!out[needed]) {
      console.error(`run.mjs: --${needed} is required`)
      process.exit(2)
    }
  }
  return out
}
