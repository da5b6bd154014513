import { useQuery } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { useServices } from '../api/app-context.tsx';
import { queryKeys } from '../api/query-keys.ts';
import { Empty, ErrorState, Loading } from '../ui/states.tsx';
import { InstallSkill } from './install-skill.tsx';
import { SkillCard } from './skill-card.tsx';

/** Installed skills and installing one through the consent screen. */
export function SkillsPage(): ReactNode {
  const { client } = useServices();
  const skills = useQuery({ queryKey: queryKeys.skills, queryFn: () => client.call('listSkills') });
  return (
    <section className="page" aria-labelledby="skills-title">
      <h1 id="skills-title">Skills</h1>
      <InstallSkill />
      {skills.isPending ? (
        <Loading what="skills" />
      ) : skills.isError ? (
        <ErrorState error={skills.error} retry={() => void skills.refetch()} />
      ) : skills.data.skills.length === 0 ? (
        <Empty title="No skills installed">
          Agents can only act through skills. Install one above, e.g. the bundled plugins/echo-notes
          folder.
        </Empty>
      ) : (
        skills.data.skills.map((s) => <SkillCard key={s.skill_id} skill={s} />)
      )}
    </section>
  );
}
