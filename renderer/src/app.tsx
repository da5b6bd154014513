import type { ReactNode } from 'react';
import { ApprovalsPage } from './approvals/approvals-page.tsx';
import { AuditPage } from './audit/audit-page.tsx';
import { ChatPage } from './chat/chat-page.tsx';
import { ConnectorsPage } from './connectors/connectors-page.tsx';
import { MemoryPage } from './memory/memory-page.tsx';
import { OutboxMessagePage } from './outbox/outbox-message-page.tsx';
import { OutboxPage } from './outbox/outbox-page.tsx';
import { Link, useRoute } from './router.tsx';
import { RunDetailPage } from './runs/run-detail-page.tsx';
import { RunsPage } from './runs/runs-page.tsx';
import { SchedulesPage } from './schedules/schedules-page.tsx';
import { SettingsPage } from './settings/settings-page.tsx';
import { SkillsPage } from './skills/skills-page.tsx';
import { AppShell } from './ui/app-shell.tsx';
import { Empty } from './ui/states.tsx';

/** The app: the shell around the page the address names. */
export function App(): ReactNode {
  const route = useRoute();
  return (
    <AppShell route={route}>
      {route.page === 'runs' ? (
        <RunsPage />
      ) : route.page === 'run' ? (
        <RunDetailPage key={route.runId} runId={route.runId} />
      ) : route.page === 'approvals' ? (
        <ApprovalsPage />
      ) : route.page === 'skills' ? (
        <SkillsPage />
      ) : route.page === 'schedules' ? (
        <SchedulesPage />
      ) : route.page === 'memory' ? (
        <MemoryPage />
      ) : route.page === 'connectors' ? (
        <ConnectorsPage />
      ) : route.page === 'outbox' ? (
        <OutboxPage />
      ) : route.page === 'outbox_message' ? (
        <OutboxMessagePage key={route.id} id={route.id} />
      ) : route.page === 'chat' ? (
        <ChatPage channel={route.channel} />
      ) : route.page === 'audit' ? (
        <AuditPage />
      ) : route.page === 'settings' ? (
        <SettingsPage />
      ) : (
        <Empty title="No such page">
          <Link to="/runs">Go to the runs</Link>
        </Empty>
      )}
    </AppShell>
  );
}
