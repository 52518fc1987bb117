// An Apollo Server 5 peer of the gateway's read schema, written the way the
// Apollo docs teach: a RESTDataSource for the Event API, per-request
// DataLoaders for users and events, the standalone server. The bench's peers
// suite starts it against the same simulator as the gateway, so the two are
// compared on the same documents, the same data and the same upstream.
//
// Environment: EVENT_API_BASE_URL (the upstream, required), PORT (default
// 4000), HOST (default 127.0.0.1: loopback only), RESPONSE_CACHE_MAX_AGE
// (seconds; unset or 0: no response cache).
//
// With RESPONSE_CACHE_MAX_AGE=N the peer keeps whole answers the way Apollo
// documents it: @apollo/server-plugin-response-cache over the server's own
// default cache (an in-memory LRU of 30 MiB), and the cache control plugin
// with defaultMaxAge N, since this schema (like the gateway's) gives no
// field a positive maxAge and the plugin keeps only answers whose every
// field has one. Answers holding User.email (scope PRIVATE) are not kept:
// there is no sessionId hook, so they have nobody's session to be kept for.
import { readFileSync } from 'node:fs';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginCacheControl } from '@apollo/server/plugin/cacheControl';
import responseCachePlugin from '@apollo/server-plugin-response-cache';
import { startStandaloneServer } from '@apollo/server/standalone';
import { RESTDataSource } from '@apollo/datasource-rest';
import DataLoader from 'dataloader';

const baseURL = process.env.EVENT_API_BASE_URL;
if (!baseURL) {
  console.error('apollo peer: EVENT_API_BASE_URL is not set');
  process.exit(2);
}
const port = Number(process.env.PORT ?? 4000);
const host = process.env.HOST ?? '127.0.0.1';
const maxAge = Number(process.env.RESPONSE_CACHE_MAX_AGE ?? 0);
if (!Number.isInteger(maxAge) || maxAge < 0) {
  console.error(`apollo peer: RESPONSE_CACHE_MAX_AGE is ${process.env.RESPONSE_CACHE_MAX_AGE}, want whole seconds, 0 or more`);
  process.exit(2);
}

// The Event API: the upstream routes the gateway calls. An unknown id is an
// empty 200 upstream, null here; an object is the id it was fetched by
// (what the gateway's client does too: the original data had id bugs).
class EventAPI extends RESTDataSource {
  constructor(options) {
    super(options);
    // RESTDataSource resolves paths against baseURL: keep its last segment.
    this.baseURL = baseURL.endsWith('/') ? baseURL : `${baseURL}/`;
  }

  async getUsers() {
    return this.get('getUsers');
  }

  async getUser(id) {
    const u = await this.get(`getUserById/${encodeURIComponent(id)}`);
    return u ? { ...u, id } : null;
  }

  async getEvents() {
    return this.get('getEvents');
  }

  async getEvent(id) {
    const e = await this.get(`getEventById/${encodeURIComponent(id)}`);
    return e ? { ...e, id } : null;
  }
}

// loaders are one request's DataLoaders: every id asked for in the request
// is fetched once, the lookups of one tick together.
function loaders(api) {
  return {
    user: new DataLoader((ids) => Promise.all(ids.map((id) => api.getUser(id)))),
    event: new DataLoader((ids) => Promise.all(ids.map((id) => api.getEvent(id)))),
  };
}

const typeDefs = readFileSync(new URL('./schema.graphql', import.meta.url), 'utf8');

const resolvers = {
  Query: {
    users: async (_, __, { api, load }) => {
      const us = await api.getUsers();
      for (const u of us) load.user.prime(u.id, u);
      return us;
    },
    user: (_, { id }, { load }) => load.user.load(id),
    events: async (_, __, { api, load }) => {
      const es = await api.getEvents();
      for (const e of es) load.event.prime(e.id, e);
      return es;
    },
    event: (_, { id }, { load }) => load.event.load(id),
  },
  User: {
    // The user's events in the user's order; ids the upstream no longer
    // knows are left out, any other failure fails the list (as the gateway).
    events: async (user, _, { load }) => {
      const ids = user.events ?? [];
      const got = await load.event.loadMany(ids);
      const failed = got.find((e) => e instanceof Error);
      if (failed) throw failed;
      return got.filter((e) => e != null);
    },
  },
  Event: {
    user: (event, _, { load }) => (event.userId ? load.user.load(event.userId) : null),
  },
};

const plugins = maxAge > 0
  ? [ApolloServerPluginCacheControl({ defaultMaxAge: maxAge }), responseCachePlugin()]
  : [];
const server = new ApolloServer({ typeDefs, resolvers, plugins });
const { cache } = server;
const { url } = await startStandaloneServer(server, {
  listen: { port, host },
  context: async () => {
    const api = new EventAPI({ cache });
    return { api, load: loaders(api) };
  },
});
console.error(`apollo peer: listening at ${url}, upstream ${baseURL}, response cache ${maxAge > 0 ? `max age ${maxAge} s` : 'off'}`);

// Apollo Server stops itself on SIGTERM and SIGINT (stopOnTerminationSignals),
// draining the standalone server: how the bench ends it.
