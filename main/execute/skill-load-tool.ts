import type { ToolCallOutcome } from '../../contracts/agent-channel.ts';
import type { SkillListEntry } from '../../contracts/skills.ts';
import type { CausalChain, ChainTx } from '../chain/causal-chain.ts';
import { isAppError } from '../errors.ts';
import type { Redactor } from '../policy/redactor.ts';
import type { ApprovalService } from '../runs/approval-service.ts';
import type { CompiledSkill } from '../skills/declarative/compile-declarative-skill.ts';
import type { SkillRegistry } from '../skills/registry/skill-registry.ts';
import { errorOutcome } from './call-outcome.ts';
import type { ExecuteCall } from './execute-pipeline.ts';
import {
  COMPILED_HASH_FIELD,
  compiledHash,
  parseSkillLoadInput,
  skillLoadApproval,
  type SkillLoadInput,
  type SkillLoading,
} from './skill-load-request.ts';

export type SkillLoadToolDeps = {
  chain: CausalChain;
  approvals: ApprovalService;
  registry: SkillRegistry;
  redactor: Redactor;
  skills: SkillLoading;
};

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
   * First call: fetch and compile (fail-fast, nothing registered), then pause on a
   * `capability` approval showing what the skill would reach. Re-issue after the decision:
   * the approval is spent first, then a denial is a refusal and an approval installs only
   * a compilation identical to the one the person saw. Always asks, whatever the pack says.
   */
  async run(call: ExecuteCall, matchKey: string, step: SkillLoadStep): Promise<ToolCallOutcome> {
    const skills = this.#deps.skills;
    const finish = step.finish;
    const input = parseSkillLoadInput(call.params);
    if (typeof input === 'string')
      return finish(errorOutcome('INVALID_INPUT', `invalid parameters for ${call.tool}: ${input}`));
    // Spent before anything is fetched or installed: a replay or a crash cannot install twice.
    const decided = await this.#deps.chain.transact(async (tx) => {
      const usable = await this.#deps.approvals.findUsableIn(tx, call.run.id, matchKey);
      const found = usable.find((a) => a.kind === 'capability');
      if (found === undefined) return undefined;
      for (const a of usable) await this.#deps.approvals.consumeIn(tx, a.id);
      await step.startStepIn(tx);
      return found;
    });
    if (decided === undefined) {
      const asked = await compileOrOutcome(skills, input);
      if ('outcome' in asked) return finish(asked.outcome);
      return finish(await this.#askToLoad(call, matchKey, input, asked.skill));
    }
    const why = decided.reason === null ? '' : `: ${decided.reason}`;
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
    // Fetched again: what is installed is what the URL serves now, checked against what was seen.
    const compiled = await compileOrOutcome(skills, input);
    if ('outcome' in compiled) return finish(compiled.outcome);
    if (decided.request[COMPILED_HASH_FIELD] !== compiledHash(compiled.skill)) {
      return finish({
        status: 'refused',
        reason: `the document at ${input.url} changed since it was approved; nothing was installed (call again to ask about the new version)`,
      });
    }
    let installed: SkillListEntry;
    try {
      installed = (await skills.installCompiled(compiled.skill, call.ctx)).skill;
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

  /** Pauses the run on the `capability` approval of a skill load. */
  async #askToLoad(
    call: ExecuteCall,
    matchKey: string,
    input: SkillLoadInput,
    compiled: CompiledSkill,
  ): Promise<ToolCallOutcome> {
    const shown = skillLoadApproval(input, compiled);
    const { approval } = await this.#deps.chain.transact((tx) =>
      this.#deps.approvals.requestAndPauseIn(
        tx,
        {
          kind: 'capability',
          scope: shown.scope,
          justification: this.#deps.redactor.redactString(shown.justification),
          // The hash is added after redaction, which could mask a long hex string.
          request: {
            ...this.#deps.redactor.redactValue(shown.request),
            [COMPILED_HASH_FIELD]: compiledHash(compiled),
          },
          permission_diff: shown.permission_diff,
          run_id: call.run.id,
          step_id: call.step_id,
          match_key: matchKey,
        },
        call.ctx,
      ),
    );
    return {
      status: 'paused',
      reason: `waiting for a person to approve loading ${compiled.manifest.skill_id}`,
      approval_id: approval.id,
    };
  }
}

/** Fetches and compiles a skill document; a document that fails the load contract is an outcome. */
async function compileOrOutcome(
  skills: SkillLoading,
  input: SkillLoadInput,
): Promise<{ skill: CompiledSkill } | { outcome: ToolCallOutcome }> {
  try {
    return { skill: await skills.compileFromUrl(input.url, { force: input.force }) };
  } catch (e) {
    if (!isAppError(e)) throw e;
    return { outcome: errorOutcome(e.code, e.message) };
  }
}
