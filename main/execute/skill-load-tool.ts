import type { Approval } from '../../contracts/approvals.ts';
import type { ToolCallOutcome } from '../../contracts/agent-channel.ts';
import type { SkillListEntry } from '../../contracts/skills.ts';
import type { CausalChain, ChainTx } from '../chain/causal-chain.ts';
import { isAppError } from '../errors.ts';
import type { Redactor } from '../policy/redactor.ts';
import type { ApprovalService } from '../runs/approval-service.ts';
import type { CompiledSkill } from '../skills/declarative/compile-declarative-skill.ts';
import type { SkillRegistry } from '../skills/registry/skill-registry.ts';
import type { PolicyPacks } from '../policy/policy-packs.ts';
import { checkSkillDocumentUrl } from '../skills/declarative/fetch-skill-document.ts';
import { errorOutcome } from './call-outcome.ts';
import type { ExecuteCall } from './execute-call.ts';
import {
  COMPILED_HASH_FIELD,
  compiledHash,
  parseSkillLoadInput,
  skillFetchApproval,
  skillLoadApproval,
  type ShownApproval,
  type SkillLoadInput,
  type SkillLoading,
} from './skill-load-request.ts';

export type SkillLoadToolDeps = {
  chain: CausalChain;
  policies: PolicyPacks;
  approvals: ApprovalService;
  registry: SkillRegistry;
  redactor: Redactor;
  skills: SkillLoading;
};

/** The gates that let a skill document fetch out, as the `egress.attempt` entry names them. */
const RULE_ORIGIN_ALLOWLIST = 'skill_load.origin_allowlist';
const RULE_FETCH_APPROVED = 'skill_load.fetch_approved';
const RULE_LOAD_APPROVED = 'skill_load.load_approved';
/** The gates that ask: a fetch from an origin the pack does not list; any install. */
const RULE_ASK_FETCH = 'skill_load.origin_not_listed';
const RULE_ASK_INSTALL = 'skill_load.install';

/** How the pipeline records the call this tool serves: its step row and its chain entry. */
export type SkillLoadStep = {
  finish: (outcome: ToolCallOutcome, skill?: SkillListEntry) => Promise<ToolCallOutcome>;
  startStepIn: (tx: ChainTx) => Promise<void>;
};

/** The agent's `ccos__skill_load`: loading a skill from a URL, only as a person approved it. */
export class SkillLoadTool {
  readonly #deps: SkillLoadToolDeps;

  constructor(deps: SkillLoadToolDeps) {
    this.#deps = deps;
  }

  /**
   * The built-in `ccos__skill_load` (docs/declarative-skills-internals.md, "Loading by the agent").
   * No request leaves before a gate allows it: the URL's origin is on the run's policy pack
   * list of skill document origins, or a person approved fetching exactly this URL (a
   * `policy_exception` approval that shows it). Then fetch and compile (fail-fast, nothing
   * registered) and pause on a `capability` approval showing what the skill would reach.
   * Re-issue after that decision: the approval is spent first, then a denial is a refusal
   * and an approval installs only a compilation identical to the one the person saw.
   * Always asks before installing, whatever the pack says.
   */
  async run(call: ExecuteCall, matchKey: string, step: SkillLoadStep): Promise<ToolCallOutcome> {
    const finish = step.finish;
    const input = parseSkillLoadInput(call.params);
    if (typeof input === 'string')
      return finish(errorOutcome('INVALID_INPUT', `invalid parameters for ${call.tool}: ${input}`));
    let url: URL;
    try {
      url = checkSkillDocumentUrl(input.url, this.#deps.registry.loadPolicy.allowLoopbackHttp);
    } catch (e) {
      if (!isAppError(e)) throw e;
      return finish(errorOutcome(e.code, e.message));
    }
    // Spent before anything is fetched or installed: a replay or a crash cannot install twice.
    const decided = await this.#deps.chain.transact(async (tx) => {
      const usable = await this.#deps.approvals.findUsableIn(tx, call.run.id, matchKey);
      const found =
        usable.find((a) => a.kind === 'capability') ??
        usable.find((a) => a.kind === 'policy_exception');
      if (found === undefined) return undefined;
      for (const a of usable) await this.#deps.approvals.consumeIn(tx, a.id);
      await step.startStepIn(tx);
      return found;
    });
    if (decided === undefined) {
      const pack = this.#deps.policies.forRun(call.run);
      if (!pack.skill_document_origins.includes(url.origin))
        return finish(await this.#askToFetch(call, matchKey, input, url));
      return finish(await this.#compileAndAsk(call, matchKey, input, RULE_ORIGIN_ALLOWLIST));
    }
    const why = decided.reason === null ? '' : `: ${decided.reason}`;
    if (decided.kind === 'policy_exception') {
      if (decided.state === 'denied')
        return finish({ status: 'refused', reason: `a person refused fetching the URL${why}` });
      if (decided.state === 'modified' && decided.scope !== decided.request.url) {
        return finish({
          status: 'refused',
          reason: `a person granted only "${decided.scope}" instead of fetching the URL${why}`,
        });
      }
      return finish(await this.#compileAndAsk(call, matchKey, input, RULE_FETCH_APPROVED));
    }
    const approvedId = (decided.request as { skill_id?: unknown }).skill_id;
    if (decided.state === 'denied')
      return finish({ status: 'refused', reason: `a person refused loading the skill${why}` });
    if (decided.state === 'expired')
      return finish({
        status: 'refused',
        reason: `the approval to load the skill expired without a decision${why}`,
      });
    if (decided.state === 'modified' && decided.scope !== approvedId) {
      return finish({
        status: 'refused',
        reason: `a person granted only "${decided.scope}" instead of loading the skill${why}`,
      });
    }
    // Fetched again (the approval showed this URL): what is installed is what the URL serves
    // now, checked against what was seen.
    const compiled = await this.#compile(call, input, RULE_LOAD_APPROVED);
    if ('outcome' in compiled) return finish(compiled.outcome);
    if (decided.request[COMPILED_HASH_FIELD] !== compiledHash(compiled.skill)) {
      return finish({
        status: 'refused',
        reason: `the document at ${input.url} changed since it was approved; nothing was installed (call again to ask about the new version)`,
      });
    }
    // Checked again at install: a person may have installed the id since the question.
    const collision = this.#collision(compiled.skill);
    if (collision !== undefined) return finish(collision);
    let installed: SkillListEntry;
    try {
      installed = (await this.#deps.skills.installCompiled(compiled.skill, call.ctx)).skill;
    } catch (e) {
      if (!isAppError(e)) throw e;
      return finish(errorOutcome(e.code, e.message));
    }
    const tools = this.#deps.registry
      .tools()
      .filter((t) => t.skill_id === installed.skill_id)
      .map((t) => t.name);
    return finish(
      {
        status: 'ok',
        output: { skill_id: installed.skill_id, version: installed.version, tools },
      },
      installed,
    );
  }

  /**
   * An agent never replaces an installed skill: the replacement would inherit its onboarding
   * (OPERATIONAL) and its secrets, so a document reusing an installed id could take over a
   * skill a person set up. Upgrades are the admin's (`POST /v1/skills`), after review.
   */
  #collision(compiled: CompiledSkill): ToolCallOutcome | undefined {
    const id = compiled.manifest.skill_id;
    const installed = this.#deps.registry.find(id);
    if (installed === undefined) return undefined;
    return errorOutcome(
      'CONFLICT',
      `a skill with the id ${id} is already installed (version ${installed.version}); an agent cannot replace an installed skill. Nothing was changed; a person can upgrade it with \`ccos skills install <url>\` after reviewing it`,
    );
  }

  /** Fetches (a gate allowed it: `ruleId`) and compiles, then asks to load what came back. */
  async #compileAndAsk(
    call: ExecuteCall,
    matchKey: string,
    input: SkillLoadInput,
    ruleId: string,
  ): Promise<ToolCallOutcome> {
    const compiled = await this.#compile(call, input, ruleId);
    if ('outcome' in compiled) return compiled.outcome;
    const collision = this.#collision(compiled.skill);
    if (collision !== undefined) return collision;
    return this.#askToLoad(call, matchKey, input, compiled.skill);
  }

  /**
   * Fetches and compiles a skill document; every request is an `egress.attempt` entry,
   * committed before it is sent. A document that fails the load contract is an outcome.
   */
  async #compile(
    call: ExecuteCall,
    input: SkillLoadInput,
    ruleId: string,
  ): Promise<{ skill: CompiledSkill } | { outcome: ToolCallOutcome }> {
    try {
      return {
        skill: await this.#deps.skills.compileFromUrl(input.url, {
          force: input.force,
          audit: {
            sender: { actor: call.ctx.actor },
            envelope: {
              session_id: call.run.session_id,
              run_id: call.run.id,
              step_id: call.step_id,
              correlation_id: call.ctx.correlation_id ?? null,
            },
            rule_id: ruleId,
          },
        }),
      };
    } catch (e) {
      if (!isAppError(e)) throw e;
      return { outcome: errorOutcome(e.code, e.message) };
    }
  }

  /** Pauses the run on the approval to fetch exactly this URL; nothing has been sent. */
  async #askToFetch(
    call: ExecuteCall,
    matchKey: string,
    input: SkillLoadInput,
    url: URL,
  ): Promise<ToolCallOutcome> {
    const shown = skillFetchApproval(input, url, this.#deps.redactor);
    const approval = await this.#pause(call, matchKey, 'policy_exception', RULE_ASK_FETCH, shown);
    return {
      status: 'paused',
      reason: `waiting for a person to allow fetching ${shown.scope}`,
      approval_id: approval.id,
    };
  }

  /** Pauses the run on the `capability` approval of a skill load. */
  async #askToLoad(
    call: ExecuteCall,
    matchKey: string,
    input: SkillLoadInput,
    compiled: CompiledSkill,
  ): Promise<ToolCallOutcome> {
    const shown = skillLoadApproval(input, compiled);
    const approval = await this.#pause(call, matchKey, 'capability', RULE_ASK_INSTALL, {
      ...shown,
      justification: this.#deps.redactor.redactString(shown.justification),
      // The hash is added after redaction, which could mask a long hex string.
      request: {
        ...this.#deps.redactor.redactValue(shown.request),
        [COMPILED_HASH_FIELD]: compiledHash(compiled),
      },
    });
    return {
      status: 'paused',
      reason: `waiting for a person to approve loading ${compiled.manifest.skill_id}`,
      approval_id: approval.id,
    };
  }

  /** Records the approval (keyed by the call) and pauses the run on it, in one transaction. */
  async #pause(
    call: ExecuteCall,
    matchKey: string,
    kind: 'policy_exception' | 'capability',
    ruleId: string,
    shown: ShownApproval,
  ): Promise<Approval> {
    const { approval } = await this.#deps.chain.transact((tx) =>
      this.#deps.approvals.requestAndPauseIn(
        tx,
        {
          kind,
          rule_id: ruleId,
          ...shown,
          run_id: call.run.id,
          step_id: call.step_id,
          match_key: matchKey,
        },
        call.ctx,
      ),
    );
    return approval;
  }
}
