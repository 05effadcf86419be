'use strict'

// db.serve(): the open database served over the Redis or memcache protocol from this process
// (src/server/). A Server is a thin handle over the native one; the database keeps the set of
// its servers so that close() can stop them before the database goes.

const { popCallback, settle } = require('./callbacks.js')

class Server {
  #native
  #servers
  #closing = null
  // The native server runs on threads Node does not see: this timer keeps the process alive
  // while it listens, as a listening net.Server does (unref() lets the process exit anyway).
  #keepAlive = setInterval(() => {}, 1 << 30)

  constructor (native, servers) {
    this.#native = native
    this.#servers = servers
    servers.add(this)
  }

  ref () {
    this.#keepAlive.ref()
    return this
  }

  unref () {
    this.#keepAlive.unref()
    return this
  }

  // As net.Server's address().
  address () {
    return { address: this.#native.host, family: this.#native.family, port: this.#native.port }
  }

  close (...args) {
    const callback = popCallback(args)
    if (this.#closing === null) {
      clearInterval(this.#keepAlive)
      this.#closing = this.#native.close().finally(() => this.#servers.delete(this))
    }
    if (callback === null) return this.#closing
    settle(() => this.#closing, callback)
  }
}

function checkOptions (options) {
  if (options === undefined || options === null) return {}
  if (typeof options !== 'object') {
    throw Object.assign(new TypeError('The first argument of serve() must be an options object'), { code: 'LEVEL_INVALID_ARGUMENT' })
  }
  return options
}

module.exports = { Server, checkOptions }
